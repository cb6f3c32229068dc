//! Information measures estimated through Gaussianization.

pub(crate) mod marginal_entropy;
