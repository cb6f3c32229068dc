//! Reading and writing files.

pub(crate) mod model_file;
