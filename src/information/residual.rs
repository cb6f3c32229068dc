//! What a model left: the total correlation of its output, measured by nearest
//! neighbours.
//!
//! A model's total correlation is the sum of what its steps removed; what they could not
//! see is still in its output. Marginal maps and rotations see dependence only through
//! one-dimensional projections, and some dependence hides from all of them: two
//! Gaussian blocks each turned by an angle that grows with its norm (the Beyond-Normal
//! spirals) have Gaussian projections in every direction the layers look, and the stack
//! stops at 0.6 of their 1.02 nats. The output is then Gaussian in every coordinate but
//! not jointly, which a nearest-neighbour estimate of its joint entropy sees without
//! looking for directions: the Kozachenko–Leonenko estimate, whose bias is smallest on
//! smooth densities near the Gaussian, which is what a model's output is.
//!
//! The estimate `Σᵢ ½ ln(2πe) − Ĥ_KL(s)`, `s` the output's columns mapped to normal
//! scores by their ranks (its marginals then are exactly standard normal, and only the
//! dependence between them counts), is compared with its null on standard Gaussian
//! samples of the same size, scored the same way (simulated with fixed seeds, and shipped
//! as a table from 128 to 5000 rows):
//! its excess over the null mean is added to the model's total correlation only when it
//! exceeds the significance times the null's standard deviation, whose square then
//! joins the estimate's variance. Below that it is left out, so estimates on data the
//! layers finish are unchanged to the bit. For a mutual information, the correction is
//! what the joint model left beyond what the blocks' models left, tested as one
//! quantity.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use statrs::function::gamma::{digamma, ln_gamma};

use super::copula::normal_quantile_scores;
use super::neighbours::{by_row, smallest, MAX_DIM, MAX_ROWS};
use crate::numeric::normal::HALF_LN_2PI_E;
use crate::numeric::{between_sizes, mean_var, NullCache};

/// Neighbours of the estimate (the k of k-nearest): small k follows the density
/// closely, which a residual hidden in thin structure needs.
const NEIGHBOURS: usize = 5;
/// Replicates of the null simulation.
const REPLICATES: usize = 12;
/// Seed of the null simulations: fixed, so estimates are reproducible.
const NULL_SEED: u64 = 0x0e51_d0a1;

/// What a model left in its output: the nearest-neighbour total correlation's excess
/// over its null mean, and the null's standard deviation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Leftover {
    pub(crate) excess: f64,
    pub(crate) sd: f64,
}

impl Leftover {
    /// What a model's output `z` (rows = samples, at most [`MAX_ROWS`]: the model's
    /// image of [`subsample`]) still holds; nothing (zero with no spread) when `z` has
    /// more than [`MAX_DIM`] or fewer than two columns, too few rows, or repeated rows.
    /// An estimate below its null mean counts as nothing left: a total correlation is
    /// never negative, and the models' failure is to miss dependence, not to invent it.
    pub(crate) fn of(z: ArrayView2<'_, f64>) -> Self {
        let (n, d) = z.dim();
        debug_assert!(n <= MAX_ROWS, "{n} rows: subsample first");
        if !(2..=MAX_DIM).contains(&d) || n < 20 * (NEIGHBOURS + 1) {
            return Self::default();
        }
        match knn_total_correlation(z) {
            Some(value) => {
                let (mean, sd) = null(n, d);
                Self { excess: (value - mean).max(0.0), sd }
            }
            None => Self::default(),
        }
    }

    /// `self − a − b`: what a joint model left beyond what its blocks' models left (their
    /// nulls' spreads add, the estimates being independent given the models).
    pub(crate) fn beyond(self, a: Self, b: Self) -> Self {
        Self { excess: self.excess - a.excess - b.excess, sd: (self.sd.powi(2) + a.sd.powi(2) + b.sd.powi(2)).sqrt() }
    }

    /// The correction to add and the variance it brings: the excess when it exceeds
    /// `sigmas` null standard deviations, else nothing.
    pub(crate) fn significant(self, sigmas: f64) -> (f64, f64) {
        if self.excess > sigmas * self.sd {
            (self.excess, self.sd * self.sd)
        } else {
            (0.0, 0.0)
        }
    }
}

/// `Σᵢ ½ ln(2πe) − Ĥ(s)`, `s` the columns of `z` mapped to normal scores by their ranks
/// ([`normal_quantile_scores`]), `Ĥ` the joint entropy by the Kozachenko–Leonenko
/// estimator with [`NEIGHBOURS`] neighbours, `ψ(n) − ψ(k) + ln V_d + (d/n) Σ ln εᵢ`
/// (`εᵢ` the distance from row `i` to its k-th nearest other row, `V_d` the volume of
/// the unit ball), and the marginal entropies the standard normal's, which the scores'
/// are exactly. A model's output marginals are Gaussian only up to its last marginal
/// step: taken as they were, the ripples it leaves in a step density (dequantized
/// counts) counted as dependence, 0.12 nats between two independent count columns, and
/// the marginals' own sampling noise widened the null. (Estimated by the same
/// estimator instead, the marginals of a regular sample, a low-discrepancy sequence,
/// came out above a random sample's and made dependence out of regularity.) `None` when
/// some row has k others at its very place (repeated rows), where the estimate does not
/// exist.
fn knn_total_correlation(z: ArrayView2<'_, f64>) -> Option<f64> {
    let (n, d) = z.dim();
    let total: f64 = kth_neighbour_ln_distances(normal_quantile_scores(z).view())?.iter().sum();
    let df = d as f64;
    let ln_unit_ball = 0.5 * df * std::f64::consts::PI.ln() - ln_gamma(0.5 * df + 1.0);
    let entropy = digamma(n as f64) - digamma(NEIGHBOURS as f64) + ln_unit_ball + df * total / n as f64;
    Some(df * HALF_LN_2PI_E - entropy)
}

/// `ln εᵢ` for every row of `z`, `εᵢ` the distance to its [`NEIGHBOURS`]-th nearest
/// other row; `None` if that distance is zero (to rounding) for some row.
fn kth_neighbour_ln_distances(z: ArrayView2<'_, f64>) -> Option<Vec<f64>> {
    by_row(&[z], |i, squared| {
        let kth = smallest::<NEIGHBOURS>(squared[0].iter().copied(), i)[NEIGHBOURS - 1];
        // Coinciding rows are apart by the search's rounding, relative to their norms.
        (kth > 1e-12 * (1.0 + z.row(i).dot(&z.row(i)))).then(|| 0.5 * kth.ln())
    })
    .into_iter()
    .collect()
}

/// Mean and standard deviation of [`knn_total_correlation`] on standard Gaussian samples
/// of `n` rows and `d` columns: from [`NULL_TABLE`] from 128 rows on (see
/// [`between_sizes`]), else simulated once per process and size (and kept on disk).
fn null(n: usize, d: usize) -> (f64, f64) {
    static NULLS: NullCache<(usize, usize, usize), (f64, f64)> = NullCache::new("residual");
    let tabulated =
        d.checked_sub(2).and_then(|i| NULL_TABLE.get(i)).and_then(|nulls| between_sizes(&NULL_ROWS, nulls, n));
    tabulated.unwrap_or_else(|| NULLS.get_or_simulate((n, d, NEIGHBOURS), || simulate_null(n, d)))
}

/// The simulation behind [`null`]: [`REPLICATES`] Gaussian samples with fixed seeds.
fn simulate_null(n: usize, d: usize) -> (f64, f64) {
    let values: Vec<f64> = (0..REPLICATES)
        .into_par_iter()
        .map(|rep| {
            let mut rng = ChaCha8Rng::seed_from_u64(NULL_SEED);
            rng.set_stream(rep as u64);
            let x = Array2::from_shape_simple_fn((n, d), || StandardNormal.sample(&mut rng));
            knn_total_correlation(x.view()).expect("Gaussian rows are distinct")
        })
        .collect();
    let (mean, var) = mean_var(&values);
    (mean, var.sqrt())
}

/// The sizes [`NULL_TABLE`] holds the null at: `2^(7 + k/2)` rows, rounded, and
/// [`MAX_ROWS`] (every larger sample is measured on that many).
const NULL_ROWS: [usize; 12] = [128, 181, 256, 362, 512, 724, 1024, 1448, 2048, 2896, 4096, MAX_ROWS];
const _: () = assert!(NULL_ROWS[NULL_ROWS.len() - 2] < MAX_ROWS);

/// `(mean, sd)` of [`simulate_null`] at `NULL_ROWS[k]` rows and `d` columns in
/// `NULL_TABLE[d − 2][k]`, as it came out (`cargo test --release --lib
/// residual::tests::print_null_table -- --ignored --nocapture` prints it, in about 3
/// minutes on 2 cores; `the_null_table_is_the_simulation` checks two entries). The
/// simulation costs up to 0.3 s per width, which a process's first estimate would pay at
/// every new size (the disk cache aside): a third of a first mutual information at 2000
/// rows.
#[rustfmt::skip]
const NULL_TABLE: [[(f64, f64); NULL_ROWS.len()]; MAX_DIM - 1] = [
    [(-0.00650056840991986, 0.037632362056481336), (-0.004830393122344863, 0.035598499567953704), (-0.004809463841880894, 0.042797683251767894), (-0.006018224836627876, 0.022888742896855042), (-0.00950177875117538, 0.01451926466514395), (0.00043806047992667185, 0.01867589517522365), (-0.00690756519704927, 0.014500107196466522), (-0.0067075156629401445, 0.01668219539092804), (-0.0072646787030383, 0.00933811766738807), (-0.007576111170773281, 0.00547787095528632), (-0.007883696326178283, 0.009724926657878474), (-0.007837585909669764, 0.007529661175569123)],
    [(0.05688702898328716, 0.027558638120802986), (0.045574337294536006, 0.027937157742356694), (0.035757571840597135, 0.03296944401425074), (0.04601595962311008, 0.03221678177383471), (0.047206959819485896, 0.025980553097062178), (0.04536129295028143, 0.024643969673709396), (0.04365740565719959, 0.015036559632891475), (0.035579413280693174, 0.014152273175802282), (0.028963868483145177, 0.01251276392994773), (0.0249315567658428, 0.01124224462694155), (0.025605001945023426, 0.009588558090526462), (0.024133383927123237, 0.009811279580943551)],
    [(0.03905586505288805, 0.06123000023363358), (0.05855276714975136, 0.04186590833635904), (0.06878290523942472, 0.031608509210936074), (0.06518123474986932, 0.02201346373019675), (0.06560040617183287, 0.025448867694775834), (0.05922899793831234, 0.026870555118552547), (0.058304775571917565, 0.016544213995371284), (0.054198801259257655, 0.016006976736055157), (0.052661021915290394, 0.009547935697017642), (0.049888753091396586, 0.008560430090433186), (0.04427224082159298, 0.006295796736501676), (0.04260598834261494, 0.004965793245327772)],
    [(-0.0300047394843251, 0.046649210362653), (0.007601498221857295, 0.05158451339529551), (0.04804236752162416, 0.04983608246739375), (0.04746473446381313, 0.03347891561297571), (0.04957744944306697, 0.035638639340111605), (0.06652494202179193, 0.02890771358495373), (0.06703952608094095, 0.017876935025879934), (0.07349030237691268, 0.014940605950130399), (0.07290679406650809, 0.014517335931702947), (0.06810138803731862, 0.013566980367910798), (0.06212486213255083, 0.008363826489948666), (0.061213677032019076, 0.007990354772197204)],
    [(-0.07108522327736393, 0.05660620296302516), (-0.018647292504663387, 0.04447115060685386), (0.0033436428207626414, 0.032513114716877574), (0.016234763052441387, 0.032823621857635786), (0.030617975444439043, 0.02127599905990325), (0.04017676284525148, 0.0181711534272736), (0.04668359436036296, 0.018733995418382512), (0.058139106651190264, 0.018137198350150156), (0.06359490001007136, 0.013912638036061417), (0.0643557199636809, 0.01067462031939388), (0.06484792412672184, 0.01021804768621489), (0.06625758362211398, 0.009428982559409453)],
    [(-0.15651200621142447, 0.05711469813040352), (-0.11606239067837858, 0.02505455838295168), (-0.09443187408584164, 0.034642870741935484), (-0.05297223248307015, 0.03515076715138987), (-0.01962830847586335, 0.031399896776454904), (0.010586740407064385, 0.02596170830175867), (0.02301913920993511, 0.015511158239608188), (0.04253382415545456, 0.012279141903328709), (0.04960738281515361, 0.015842904386090637), (0.0535011634081326, 0.012971752813797258), (0.057643015970267, 0.0060382651591857715), (0.05890284235400959, 0.006768824411270902)],
    [(-0.23597793047924429, 0.052371661211271965), (-0.1892375258580364, 0.04843653397296845), (-0.13539629867743708, 0.06029997889771891), (-0.11218655003688231, 0.027601968458473108), (-0.07276604820707903, 0.02900887242629922), (-0.05018635770575427, 0.02495857763874956), (-0.021958632215561973, 0.0221475377052174), (-0.005017538932928704, 0.01485959100352194), (0.015761611476484177, 0.012291856661464488), (0.023693612566685562, 0.012238719484042426), (0.032723250707953934, 0.009598859203717237), (0.034230091363865345, 0.007907544738716708)],
    [(-0.37503105645524865, 0.055591914856363604), (-0.3351101470148807, 0.044883853845127136), (-0.2685052881630637, 0.04247419497723104), (-0.19865546374384171, 0.041082947211206235), (-0.15440142709786966, 0.028643933124800854), (-0.118550062442676, 0.023711316334526604), (-0.07755312991917658, 0.018448315471672253), (-0.051398838730439156, 0.02611156183505776), (-0.034446212783778574, 0.018078104102163664), (-0.014659772567179393, 0.011053953026051708), (-0.0033524692662518043, 0.009814829724999323), (0.006237104942896495, 0.007302308329203733)],
    [(-0.5250689856832499, 0.06153636494174806), (-0.45490615759526687, 0.050611989674783975), (-0.39658787716172955, 0.038647849979186744), (-0.320463307646893, 0.029177401538843788), (-0.259082217674135, 0.029021350837190044), (-0.21115527089102967, 0.01886168161132078), (-0.16844425524981288, 0.0168804127744652), (-0.12749730556481267, 0.015496838488933623), (-0.09669794490642654, 0.01835552334829818), (-0.07116702676270004, 0.011212659338646878), (-0.05057483766434734, 0.012231396548357849), (-0.042528039319867705, 0.010727533612694832)],
    [(-0.6937063944625121, 0.08223687952265542), (-0.5892650672674881, 0.06511056726778808), (-0.5050951145639516, 0.051516390420485204), (-0.4179986254757863, 0.0349658649768629), (-0.3502657612608823, 0.03205798549577944), (-0.28808524875198777, 0.026435518142293016), (-0.24553184427062927, 0.01768045789803931), (-0.20246821429421966, 0.017611713085520276), (-0.16895161350667687, 0.02310922553649855), (-0.13132475509389727, 0.021491003618370336), (-0.10870368387331553, 0.017027412810954323), (-0.09344662740488004, 0.013832920080078566)],
    [(-0.8363080516500186, 0.06474937877180319), (-0.7244366855088437, 0.05622242960084173), (-0.622986978419914, 0.05513394503719373), (-0.5308758458579345, 0.04659071764631985), (-0.46719634890950196, 0.043596476787389725), (-0.39069752519822093, 0.0330900838941752), (-0.3305944974709423, 0.023893168871972237), (-0.286921811193715, 0.02046734580646996), (-0.24697102330903467, 0.018062092047788577), (-0.20518485609713633, 0.013736164085531796), (-0.17117057926534626, 0.012644848364163824), (-0.15446683229555536, 0.010768416531978898)],
    [(-1.0424690712779443, 0.07859771946417426), (-0.9049018589983987, 0.06105732171897532), (-0.795495716385819, 0.07105635791231246), (-0.6707768421010742, 0.05668318552905016), (-0.5782533697450095, 0.037360335663713065), (-0.5086489297841391, 0.029350942122029704), (-0.46168314554128137, 0.025648910767292876), (-0.3953042669152464, 0.03235340362995775), (-0.3402411296452807, 0.028105832650905452), (-0.2938744562900695, 0.01917610648469076), (-0.2550228331079743, 0.01692627419478675), (-0.23080764225921838, 0.016453915785845628)],
    [(-1.221730034588467, 0.07178227745220657), (-1.070862318326041, 0.047470274884012335), (-0.9243652793499058, 0.052634311790737486), (-0.805682249624145, 0.06081398103881613), (-0.708581307404644, 0.04337659131061964), (-0.6103721343210703, 0.03365171396213088), (-0.5512950740219992, 0.02667860591950224), (-0.4891533442598197, 0.022389203761060003), (-0.440223799655634, 0.017385427979464588), (-0.38792991986260006, 0.019924383590174653), (-0.3405157325246142, 0.01705720191566262), (-0.3139778689503722, 0.01477693752604866)],
    [(-1.3646798939042386, 0.11193448133061819), (-1.2275809903757235, 0.09508127113206875), (-1.0673630748981398, 0.06684719212792306), (-0.9624480980775214, 0.04959942790200183), (-0.8673050043440131, 0.0358400413117963), (-0.7701948385982244, 0.02924789652484077), (-0.6868479562257989, 0.03454571894023587), (-0.6140983999813064, 0.029219329970365953), (-0.5495202015031667, 0.0255137024537269), (-0.49316023144923865, 0.021379818677271862), (-0.4378111861627296, 0.011469692798018495), (-0.40917683935266896, 0.010726820025243928)],
    [(-1.53912367965273, 0.09536172941272061), (-1.3494280075568728, 0.0808789803273401), (-1.2086935144169892, 0.04276822038591344), (-1.0984668105668192, 0.04791207032183292), (-0.9927638237064785, 0.03520054185375189), (-0.8961518662672491, 0.04669733084730232), (-0.8118012416482543, 0.03727907305531485), (-0.7265009987858496, 0.032874351094864356), (-0.6555019031075394, 0.030168668861662234), (-0.5924303406078076, 0.027207328518852034), (-0.5344564501113904, 0.015787199468736288), (-0.5028430442377605, 0.014651513561222344)],
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::null_table::checks::{assert_agrees, assert_is_simulation, print_table};

    #[test]
    fn the_estimate_finds_a_known_gaussian_total_correlation() {
        // A bivariate Gaussian with correlation 0.8 and standard normal marginals:
        // TC = −½ ln(1 − 0.64) = 0.5108.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let n = 4000;
        let z = Array2::from_shape_fn((n, 2), |_| -> f64 { StandardNormal.sample(&mut rng) });
        let rho: f64 = 0.8;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            if j == 0 {
                z[[i, 0]]
            } else {
                rho * z[[i, 0]] + (1.0 - rho * rho).sqrt() * z[[i, 1]]
            }
        });
        let (mean, sd) = null(n, 2);
        let tc = knn_total_correlation(x.view()).unwrap() - mean;
        assert!((tc - 0.5108).abs() < 4.0 * sd, "{tc} ± {sd}");
        // The correction is reported, with the null's variance.
        assert_eq!(Leftover::of(x.view()).significant(3.0), (tc, sd * sd));
    }

    #[test]
    #[ignore = "about 3 minutes in release: prints NULL_TABLE"]
    fn print_null_table() {
        print_table(&NULL_ROWS, MAX_DIM, simulate_null);
    }

    #[test]
    fn the_null_table_is_the_simulation() {
        for (d, k) in [(2, NULL_ROWS.len() - 1), (9, 3)] {
            assert_is_simulation(NULL_TABLE[d - 2][k], simulate_null(NULL_ROWS[k], d), &format!("d = {d}"));
            assert_eq!(null(NULL_ROWS[k], d), NULL_TABLE[d - 2][k]);
        }
    }

    #[test]
    fn between_sizes_the_null_agrees_with_the_simulation() {
        for (n, d) in [(1500, 4), (300, 11), (4500, 16)] {
            assert_agrees(null(n, d), simulate_null(n, d), REPLICATES, &format!("n = {n}, d = {d}"));
        }
    }

    #[test]
    fn nothing_is_reported_for_independent_gaussians_or_repeated_rows() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let x = Array2::from_shape_fn((3000, 4), |_| -> f64 { StandardNormal.sample(&mut rng) });
        assert_eq!(Leftover::of(x.view()).significant(3.0), (0.0, 0.0));
        let repeated = Array2::from_shape_fn((3000, 3), |(i, j)| (i % 100) as f64 + j as f64 * 0.37);
        assert_eq!(Leftover::of(repeated.view()), Leftover::default());
    }
}
