//! Charts for reports: an effect chart (forest plot) and an arm chart, as PNG and SVG.
//!
//! Renderers compute nothing: callers pass values already in display units
//! (percentage points, euros, months) and texts already in the report language, and
//! these functions only lay them out and draw them. `lang` only picks the number format
//! and two fixed phrases. Values that are NaN or infinite are not drawn; their rows
//! keep their label and say "not estimable" instead, so a chart never silently drops a
//! comparison. An effect row needs its estimate and both interval bounds (a dot alone
//! would look exact); an arm bar is drawn from its mean, with the whisker when the
//! interval is finite.
//!
//! The fonts are embedded (DejaVu Sans, registered from bytes), so rendering does not
//! depend on the fonts installed on the machine; see `THIRD_PARTY_NOTICES` for their
//! licence.

mod arms;
mod axis;
mod balance;
mod did;
mod effects;
mod flow;
mod forest;
mod frame;
mod glyphs;
mod its;
mod plane;
mod power;
mod scene;
pub mod survival;
mod text;
mod theme;
mod xy;

use std::sync::Once;

use plotters::style::{FontStyle, register_font};

pub use crate::config::{Better, Lang};
use crate::error::Result;
pub use flow::{FlowBox, FlowChart, FlowColumn};
pub use its::{ItsChart, ItsLines, its_chart_png, its_chart_svg};
pub use survival::{
    AtRiskRow, SurvivalChart, SurvivalCurve, survival_chart_png, survival_chart_svg,
};
pub use text::chart_number as its_number;

/// One comparison in an effect panel.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectRow {
    /// E.g. "Participants vs comparison — pooled".
    pub label: String,
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Pooled/overall rows are drawn heavier (bold label, thicker bar, bigger dot).
    pub emphasis: bool,
    /// Withheld by disclosure control: the row says "suppressed", not "not estimable".
    pub suppressed: bool,
}

/// One outcome: its own axis, because outcomes differ in units.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectPanel {
    /// Outcome label, e.g. "Paid work at 12 months (primary)".
    pub title: String,
    /// The unit under the axis, e.g. "Difference in percentage points".
    pub axis_label: String,
    /// Which side of the axis is good; drives the "← worse · better →" hint.
    pub better: Better,
    pub rows: Vec<EffectRow>,
}

/// A forest plot with one panel per outcome, stacked vertically.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectChart {
    pub title: String,
    /// E.g. "Estimate with 95% confidence interval; adjusted for covariates".
    pub subtitle: String,
    pub panels: Vec<EffectPanel>,
    /// Footer, e.g. "Synthetic data".
    pub note: String,
    /// ("better", "worse") in the report language.
    pub better_label: (String, String),
    /// Language of the chart: number format (decimal comma in Dutch) and the few
    /// fixed words the caller does not pass ("not estimable").
    pub lang: Lang,
}

/// One arm within a group.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmPoint {
    /// Arm label; drawn as "label (n = 87)".
    pub label: String,
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// None where disclosure control withholds it (the label then says so).
    pub n: Option<usize>,
    /// Withheld by disclosure control: the bar says "suppressed", not "not estimable".
    pub suppressed: bool,
}

/// One subset, e.g. "Pooled" or a project/site.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmGroup {
    pub title: String,
    pub points: Vec<ArmPoint>,
}

/// Means per arm with confidence intervals, groups stacked on one shared axis.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmChart {
    pub title: String,
    pub subtitle: String,
    /// The value axis with its unit, e.g. "Share with paid work (%)".
    pub axis_label: String,
    pub groups: Vec<ArmGroup>,
    pub note: String,
    /// See [`EffectChart::lang`].
    pub lang: Lang,
}

/// One study (site, project) of a forest plot, in display units.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestRow {
    pub label: String,
    /// Sample size, drawn as "label (n)" when known.
    pub n: Option<usize>,
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Weight in the pooled estimate, in percent.
    pub weight: f64,
}

/// The pooled estimate of a forest plot (drawn as a diamond).
#[derive(Debug, Clone, PartialEq)]
pub struct ForestPooled {
    /// E.g. "Random effects (REML, HKSJ)".
    pub label: String,
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// The heterogeneity numbers printed under a forest plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestHeterogeneity {
    pub i2: f64,
    pub tau2: f64,
    pub tau2_ci_low: f64,
    pub tau2_ci_high: f64,
    pub q: f64,
    pub q_df: f64,
    pub q_p_value: f64,
}

/// A meta-analysis forest plot: studies, pooled diamond, prediction interval and the
/// heterogeneity line. Values on one additive scale with no effect at zero (ratios on
/// the log scale).
#[derive(Debug, Clone, PartialEq)]
pub struct ForestChart {
    pub title: String,
    pub subtitle: String,
    pub axis_label: String,
    pub rows: Vec<ForestRow>,
    pub pooled: ForestPooled,
    /// Prediction interval for a new site; none for a fixed-effect analysis.
    pub prediction: Option<(f64, f64)>,
    pub heterogeneity: ForestHeterogeneity,
    /// Confidence level of the intervals, for the column heading (e.g. 0.95).
    pub conf_level: f64,
    pub note: String,
    /// See [`EffectChart::lang`].
    pub lang: Lang,
}

/// The forest plot as an SVG document.
pub fn forest_chart_svg(c: &ForestChart) -> Result<String> {
    register_fonts();
    forest::scene(c).svg()
}

/// The forest plot as PNG file bytes, 1000 pixels wide.
pub fn forest_chart_png(c: &ForestChart) -> Result<Vec<u8>> {
    register_fonts();
    forest::scene(c).png()
}

/// One event-study coefficient, in display units.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPoint {
    pub event_time: i64,
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Withheld by disclosure control.
    pub suppressed: bool,
}

/// The event-study plot.
#[derive(Debug, Clone, PartialEq)]
pub struct EventStudyChart {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub points: Vec<EventPoint>,
    /// A second, heterogeneity-robust series by event time (Callaway-Sant'Anna), drawn
    /// beside the first; empty for none.
    pub robust: Vec<EventPoint>,
    /// Legend texts of the two series.
    pub series_labels: (String, String),
    /// The reference period (drawn on the zero line).
    pub reference: i64,
    pub note: String,
    pub lang: Lang,
}

/// One cohort's mean outcome by calendar period (NaN where withheld).
#[derive(Debug, Clone, PartialEq)]
pub struct CohortSeries {
    pub label: String,
    /// The cohort's first treated period; `None` for never treated.
    pub start: Option<i64>,
    pub points: Vec<(i64, f64)>,
}

/// Outcome means by cohort over calendar time.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendChart {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<CohortSeries>,
    pub note: String,
    pub lang: Lang,
}

pub use did::format_value;

/// One group-time effect ATT(g,t) in display units.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTimePoint {
    pub time: i64,
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// The uniform band (bootstrap), when there is one.
    pub band: Option<(f64, f64)>,
    /// Withheld by disclosure control.
    pub suppressed: bool,
}

/// One cohort's panel of the group-time chart.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTimePanel {
    /// E.g. "Start 2006".
    pub title: String,
    /// The cohort's first treated period (marked; periods before it shaded).
    pub group: i64,
    pub points: Vec<GroupTimePoint>,
}

/// Group-time effects as small multiples: a panel per cohort, effect by calendar period.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTimeChart {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub panels: Vec<GroupTimePanel>,
    /// Legend texts: (interval, uniform band); the band's shown only when a point has one.
    pub legend: (String, String),
    pub note: String,
    pub lang: Lang,
}

/// The group-time chart as PNG file bytes.
pub fn group_time_png(c: &GroupTimeChart) -> Result<Vec<u8>> {
    register_fonts();
    did::group_time_scene(c).png()
}

/// The group-time chart as SVG text.
pub fn group_time_svg(c: &GroupTimeChart) -> Result<String> {
    register_fonts();
    did::group_time_scene(c).svg()
}

/// The event-study plot as PNG file bytes.
pub fn event_study_png(c: &EventStudyChart) -> Result<Vec<u8>> {
    register_fonts();
    did::event_scene(c).png()
}

/// The event-study plot as SVG text.
pub fn event_study_svg(c: &EventStudyChart) -> Result<String> {
    register_fonts();
    did::event_scene(c).svg()
}

/// The cohort means chart as PNG file bytes.
pub fn trend_chart_png(c: &TrendChart) -> Result<Vec<u8>> {
    register_fonts();
    did::trend_scene(c).png()
}

/// The cohort means chart as SVG text.
pub fn trend_chart_svg(c: &TrendChart) -> Result<String> {
    register_fonts();
    did::trend_scene(c).svg()
}

/// The participant flow diagram as SVG text.
pub fn flow_chart_svg(c: &FlowChart) -> Result<String> {
    register_fonts();
    flow::scene(c).svg()
}

/// The participant flow diagram as PNG file bytes, 1000 pixels wide.
pub fn flow_chart_png(c: &FlowChart) -> Result<Vec<u8>> {
    register_fonts();
    flow::scene(c).png()
}

/// Registers DejaVu Sans regular and bold as "sans-serif" for plotters. Without it the
/// bitmap backend has no font and draws nothing, whatever is installed on the system.
/// Safe to call any number of times; the chart functions call it themselves.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are the bundled, valid TrueType files; a failure here could only
        // come from a broken dejavu crate and would surface as a drawing error.
        let _ = register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

/// The effect chart as an SVG document.
pub fn effect_chart_svg(c: &EffectChart) -> Result<String> {
    register_fonts();
    effects::scene(c).svg()
}

/// The effect chart as PNG file bytes, 1000 pixels wide.
pub fn effect_chart_png(c: &EffectChart) -> Result<Vec<u8>> {
    register_fonts();
    effects::scene(c).png()
}

/// The arm chart as an SVG document.
pub fn arm_chart_svg(c: &ArmChart) -> Result<String> {
    register_fonts();
    arms::scene(c).svg()
}

/// The arm chart as PNG file bytes, 1000 pixels wide.
pub fn arm_chart_png(c: &ArmChart) -> Result<Vec<u8>> {
    register_fonts();
    arms::scene(c).png()
}

/// A power curve: power against the total sample size, with the target power and the
/// result (see `via-eval power`).
#[derive(Debug, Clone, PartialEq)]
pub struct PowerChart {
    pub title: String,
    pub subtitle: String,
    /// The horizontal axis with its unit, e.g. "Total persons (both arms)".
    pub x_label: String,
    /// E.g. "Power".
    pub y_label: String,
    /// (total sample size, power in [0, 1]), increasing in the size.
    pub curve: Vec<(f64, f64)>,
    /// The result, drawn as a dot: (total sample size, power).
    pub marker: (f64, f64),
    /// The target power, drawn as a horizontal line.
    pub target: Option<f64>,
    pub note: String,
    /// See [`EffectChart::lang`].
    pub lang: Lang,
}

/// The power curve as an SVG document.
pub fn power_chart_svg(c: &PowerChart) -> Result<String> {
    register_fonts();
    power::scene(c).svg()
}

/// The power curve as PNG file bytes, 1000 pixels wide.
pub fn power_chart_png(c: &PowerChart) -> Result<Vec<u8>> {
    register_fonts();
    power::scene(c).png()
}

/// The cost-effectiveness plane (see [`plane`]): bootstrap replicates and the
/// estimate, x the incremental effect and y the incremental cost, in display units.
#[derive(Debug, Clone, PartialEq)]
pub struct CePlaneChart {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    /// Bootstrap replicates (effect, cost); empty when none may be shown.
    pub points: Vec<(f64, f64)>,
    /// The estimate (effect, cost).
    pub estimate: (f64, f64),
    /// Slope of the dashed line through the origin: the value of one display unit of
    /// effect (cost per unit); None draws no line.
    pub slope: Option<f64>,
    /// Legend texts: the estimate, the replicates, the line.
    pub legend: [String; 3],
    /// Quadrant names: north-east, north-west, south-west, south-east.
    pub quadrants: [String; 4],
    pub note: String,
    /// See [`EffectChart::lang`].
    pub lang: Lang,
}

/// The cost-effectiveness plane as an SVG document.
pub fn ce_plane_svg(c: &CePlaneChart) -> Result<String> {
    register_fonts();
    plane::scene(c).svg()
}

/// The cost-effectiveness plane as PNG file bytes, 1000 pixels wide.
pub fn ce_plane_png(c: &CePlaneChart) -> Result<Vec<u8>> {
    register_fonts();
    plane::scene(c).png()
}

/// One covariate of a Love plot: absolute standardised mean differences.
#[derive(Debug, Clone, PartialEq)]
pub struct LoveRow {
    pub label: String,
    /// None where not defined (drawn as "not estimable") ...
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// ... or, when true, withheld by disclosure control (drawn as "suppressed").
    pub suppressed: bool,
}

/// A Love plot: |SMD| per covariate before and after weighting, with a reference line
/// at `threshold` (conventionally 0.1).
#[derive(Debug, Clone, PartialEq)]
pub struct LoveChart {
    pub title: String,
    pub subtitle: String,
    pub axis_label: String,
    pub rows: Vec<LoveRow>,
    pub threshold: f64,
    /// Legend texts, e.g. "Before weighting", "After weighting".
    pub before_label: String,
    pub after_label: String,
    pub note: String,
    /// See [`EffectChart::lang`].
    pub lang: Lang,
}

/// One arm of an overlap chart: its label (with n) and its share per bin in percent;
/// None where withheld (drawn as a grey stub).
#[derive(Debug, Clone, PartialEq)]
pub struct OverlapArm {
    pub label: String,
    pub shares: Vec<Option<f64>>,
}

/// The propensity-score distributions of the two arms as mirrored histograms.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlapChart {
    pub title: String,
    pub subtitle: String,
    /// The score axis, e.g. "Propensity score".
    pub x_label: String,
    /// The share axis, e.g. "Share of the arm (%)".
    pub y_label: String,
    /// Bin edges (one more than the shares of each arm).
    pub edges: Vec<f64>,
    /// Drawn above the centre line.
    pub treated: OverlapArm,
    /// Drawn below it.
    pub control: OverlapArm,
    pub note: String,
    /// See [`EffectChart::lang`].
    pub lang: Lang,
}

/// The Love plot as an SVG document.
pub fn love_chart_svg(c: &LoveChart) -> Result<String> {
    register_fonts();
    balance::love_scene(c).svg()
}

/// The Love plot as PNG file bytes, 1000 pixels wide.
pub fn love_chart_png(c: &LoveChart) -> Result<Vec<u8>> {
    register_fonts();
    balance::love_scene(c).png()
}

/// The overlap chart as an SVG document.
pub fn overlap_chart_svg(c: &OverlapChart) -> Result<String> {
    register_fonts();
    balance::overlap_scene(c).svg()
}

/// The overlap chart as PNG file bytes, 1000 pixels wide.
pub fn overlap_chart_png(c: &OverlapChart) -> Result<Vec<u8>> {
    register_fonts();
    balance::overlap_scene(c).png()
}
