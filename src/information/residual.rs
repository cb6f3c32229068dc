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
//! The estimate `Σᵢ ½ ln(2πe) − Ĥ_KL(z)` (the output's marginals are standard normal)
//! is compared with its null on standard Gaussian samples of the same size (simulated
//! with fixed seeds, and shipped as a table from 128 to 5000 rows):
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

/// `Σᵢ ½ ln(2πe) − Ĥ(z)`, the joint entropy by the Kozachenko–Leonenko estimator with
/// [`NEIGHBOURS`] neighbours, `ψ(n) − ψ(k) + ln V_d + (d/n) Σ ln εᵢ` (`εᵢ` the distance
/// from row `i` to its k-th nearest other row, `V_d` the volume of the unit ball), the
/// marginal entropies those of the standard normal that the output's marginals are.
/// (Estimated by the same estimator, the marginals of a regular sample, a
/// low-discrepancy sequence, came out above a random sample's and made dependence out of
/// regularity.) `None` when some row has k others at its very place (repeated
/// values), where the estimate does not exist.
fn knn_total_correlation(z: ArrayView2<'_, f64>) -> Option<f64> {
    let (n, d) = z.dim();
    let total: f64 = kth_neighbour_ln_distances(z)?.iter().sum();
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
    [(0.058167061492304106, 0.10627020380900044), (0.05138993332218944, 0.09483299830291429), (0.03706905416681076, 0.10850822073756447), (0.027289535546913084, 0.08418518521127202), (0.021629443809538906, 0.0643932866784789), (0.03317019395515508, 0.04986835911066162), (0.024453921792411903, 0.04261776210516429), (0.01920408672018666, 0.037198300725375465), (0.007111126983752565, 0.019668448455031736), (0.005241674221847885, 0.02155508025093055), (0.004617280951092484, 0.017816420532203642), (0.004965213319690094, 0.013685951846925297)],
    [(0.09820045821797925, 0.11633067006508013), (0.06739467738114772, 0.12172274493034793), (0.05533596638225909, 0.08791386860042646), (0.06520310138283907, 0.08154777026932829), (0.08135323891829212, 0.054138675884036945), (0.06654478453900932, 0.04760697063507583), (0.054429616624658506, 0.04105371516297603), (0.03848058500722681, 0.033732385128021354), (0.036297310905283764, 0.03630954939890901), (0.031316325970954795, 0.023021420785053787), (0.029676452075934723, 0.020179862027176424), (0.024034405531395908, 0.019209403474633176)],
    [(0.07243806249399139, 0.15295377624756915), (0.054968379618850184, 0.1372083969976953), (0.07544688181114785, 0.11404922508887369), (0.09715165755526341, 0.08771977578888619), (0.09135202755182581, 0.0888051358023709), (0.07592353353468202, 0.07864379670855545), (0.059306098506638406, 0.053834181484687216), (0.05535274656617747, 0.051157965248468676), (0.05570503002691485, 0.030714209211527545), (0.049773231955434184, 0.022337408204510984), (0.041475006594315765, 0.023263578422739815), (0.04203011952349156, 0.02242720784158556)],
    [(-0.0005572708556650744, 0.1465517846273044), (0.025864335546374056, 0.11183525292093625), (0.0825323640509732, 0.10246641750294812), (0.08782148572785993, 0.09805114657655761), (0.07165917721282122, 0.08543360342836069), (0.07858530807707569, 0.0559956332578148), (0.07476525559256997, 0.055726174367492054), (0.08000538364881882, 0.040279816405489846), (0.08010424072783835, 0.038657941447456635), (0.06571555254668111, 0.03232032966001492), (0.06025634971686548, 0.031233196155526284), (0.06483664777560372, 0.02871200495628606)],
    [(-0.06646574409067219, 0.14603531855096155), (-0.010469556851471514, 0.14274766899898017), (0.052204053101355896, 0.10383328438116532), (0.05339839446705641, 0.09533332950060532), (0.040282958437151496, 0.09626042445541715), (0.040772655752370955, 0.057132480741336325), (0.05380455616390482, 0.07117513042455188), (0.06235228681705296, 0.040358292237471935), (0.0643056518585771, 0.031163199223742482), (0.05626186476898735, 0.030890110085520693), (0.06823117708477389, 0.027669101162582678), (0.07054853786561106, 0.021240820751548286)],
    [(-0.15680459357947982, 0.19795169177119148), (-0.08321155659551745, 0.17571654714718182), (-0.041724461788412714, 0.14840462159120904), (-0.026080933398924994, 0.13219232411564055), (-0.011623659330468014, 0.10292110112476212), (0.01967216586518535, 0.09733944888940461), (0.03175857294324628, 0.07150597322691878), (0.04880248489655322, 0.049766729726493465), (0.041939027198240275, 0.04646944347696725), (0.04840063721874843, 0.034618797840626506), (0.06159313596916505, 0.03273109102373935), (0.0655974993711627, 0.034541648873726676)],
    [(-0.23868534203172795, 0.21240187462754095), (-0.13181721957158313, 0.1872810014806817), (-0.10411985127234225, 0.16675318273430917), (-0.08911589778287432, 0.15350870744871117), (-0.08145365722853241, 0.10988450522053624), (-0.05457637165518895, 0.09894101177869863), (-0.01804150421034804, 0.06286000533605801), (-0.005650789834525938, 0.048786612357224056), (0.007787155640161488, 0.04762272505264232), (0.021620910650059482, 0.039562570130080216), (0.03919462029323532, 0.04057938808751805), (0.041737096985367796, 0.04185142074021798)],
    [(-0.36143889566365467, 0.21540247140403326), (-0.2743364634110515, 0.1835150514922428), (-0.2317307582325848, 0.15625409863835021), (-0.18494393390347139, 0.12151138709337889), (-0.14531123820732228, 0.10365436479630008), (-0.12244148266351118, 0.1072464235851291), (-0.07209449007422257, 0.07872075887617003), (-0.0649717247697333, 0.06688606989325212), (-0.040760155159436096, 0.06286188674658279), (-0.010362098268426786, 0.04183632474770341), (0.0020598637561472324, 0.04509442112542293), (0.019141527919653328, 0.040912717591897366)],
    [(-0.4799192492698679, 0.2601704134806821), (-0.3716992073004525, 0.21774481571824458), (-0.36058175425556804, 0.16754761828138737), (-0.30729658473640126, 0.11846608218857022), (-0.24301519851518805, 0.10948817488766396), (-0.20601922846621465, 0.09224046482521744), (-0.15811339670429123, 0.0671918887353436), (-0.13506871749846283, 0.05877116769781666), (-0.10509185502493779, 0.056293705799857416), (-0.06584292715772433, 0.0493824800873743), (-0.03973987202818371, 0.05671681892939403), (-0.028555612314065115, 0.048615197249199306)],
    [(-0.6176396686886271, 0.21999632047874385), (-0.5277740760499537, 0.19412643874878222), (-0.4751709742436221, 0.2044682962391405), (-0.4138685953985302, 0.1499824898470084), (-0.34699806931869936, 0.12997645973210958), (-0.27841735602205286, 0.09512014022105748), (-0.24990889664461977, 0.07376072574339818), (-0.21491235906992254, 0.05710790550148556), (-0.17277115560359713, 0.050521852219288545), (-0.12709370243311557, 0.05844530672093308), (-0.09439278449051362, 0.05404590197752595), (-0.07791482447501563, 0.044391377528377345)],
    [(-0.742947612745969, 0.25729600178788364), (-0.658034904369155, 0.2230854636135044), (-0.603626682637945, 0.20249929670209402), (-0.5336502835089686, 0.14845113830329523), (-0.4571845073768846, 0.15939137693261432), (-0.3837282355867752, 0.09659662513755785), (-0.3301811916977962, 0.06735363682374791), (-0.3036309042006253, 0.07792481878755089), (-0.2414434497068291, 0.061797053596979755), (-0.19022207313445202, 0.0600113907663696), (-0.15315204447414063, 0.053242789342773086), (-0.13918876166224012, 0.04289806668168722)],
    [(-0.9597040820310072, 0.2993334385084396), (-0.8676415903440583, 0.2224683503776133), (-0.7658039213150358, 0.1923203067561399), (-0.6581711875530241, 0.1584678888827452), (-0.5756688897483692, 0.13141258669162245), (-0.5016099788456202, 0.09532199211527115), (-0.4823044609454481, 0.0730247004688739), (-0.4020049921253408, 0.07337779802986544), (-0.3321241370523473, 0.05418969307873427), (-0.28730823002587985, 0.0634295655874974), (-0.2394744527734979, 0.05235000345734217), (-0.21515677946616987, 0.04209593356769721)],
    [(-1.1289867698354052, 0.2569073979464464), (-1.0235893725157126, 0.2244340674847517), (-0.91824989976769, 0.17188471150573253), (-0.7878856205144853, 0.17658029457808194), (-0.69607621780278, 0.13916654345243376), (-0.598220416773788, 0.11093937294919441), (-0.5684210019428712, 0.0840979401231856), (-0.49813323711945995, 0.08037150655955555), (-0.4307977232764169, 0.07648070992812032), (-0.3708647329374986, 0.08540203525768612), (-0.3227546482309848, 0.060513406002535394), (-0.29801815008897997, 0.04530623628508829)],
    [(-1.2478943785814494, 0.3171804236424738), (-1.1670481286085685, 0.2844470416152751), (-1.0565856906898399, 0.18242427165375233), (-0.9545167162118684, 0.1765830092409257), (-0.8555728690101407, 0.1508617063608522), (-0.759365266247837, 0.10642032041142482), (-0.7026171824699734, 0.09594081985266933), (-0.6184209083220917, 0.0849437354786696), (-0.5412544766422235, 0.07887049176389416), (-0.470516478102196, 0.0841867854320393), (-0.4179971346150338, 0.059129117409844445), (-0.3947875439930894, 0.04821713167443304)],
    [(-1.4697370282969053, 0.27577796149531025), (-1.322464042441699, 0.23776679337990386), (-1.223328526807454, 0.19199435661355982), (-1.1095212451697034, 0.1930192084210312), (-0.9911777055959377, 0.12489150591337782), (-0.8995765129782297, 0.09690381531916561), (-0.8272724171928205, 0.09755842264722978), (-0.729337167950017, 0.09216639520853907), (-0.6418054275652031, 0.09070818458364861), (-0.5711957430009041, 0.07411957103433242), (-0.5152182061289192, 0.06091376694139313), (-0.49228204544056126, 0.04711509950005837)],
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
