//! The cost per extra person in plain words, one sentence per cost comparison, for the
//! terminal summary and the report: the amount, Fieller's interval and the bootstrap
//! interval, or what it means when an interval is unbounded. Computes nothing: every
//! number is read from [`crate::analysis::costs::CostComparison`].

use crate::analysis::PilotResults;
use crate::analysis::costs::CostComparison;
use crate::config::Lang;
use crate::stats::cost::{BootstrapKind, FiellerSet};

/// An amount in euros, e.g. "€6,500" or "€6.500", with a minus sign when negative.
pub fn euro(x: f64, lang: Lang) -> String {
    let sign = if x < 0.0 { "−" } else { "" };
    format!("{sign}€{}", crate::numfmt::format_number(x.abs(), 0, lang))
}

/// "Cost per extra person (work within 12 months): about €X; 95% interval €A to €B
/// (Fieller; bootstrap €C to €D)", or why there is no amount or no bounded interval.
pub fn cost_line(r: &PilotResults, x: &CostComparison, lang: Lang) -> String {
    let label = r
        .outcome(r.costs.as_ref().map_or("", |c| c.outcome.as_str()))
        .map(|o| o.label.get(lang).to_lowercase())
        .unwrap_or_default();
    let conf = format!("{:.0}", 100.0 * r.conf_level);
    let e = |v: f64| euro(v, lang);
    let head = match lang {
        Lang::Nl => format!("Kosten per extra persoon ({label})"),
        Lang::En => format!("Cost per extra person ({label})"),
    };
    let amount = match x.icer {
        Some(v) if v >= 0.0 && x.incremental_effect > 0.0 => match lang {
            Lang::Nl => format!("ongeveer {}", e(v)),
            Lang::En => format!("about {}", e(v)),
        },
        Some(_) if x.incremental_effect > 0.0 => match lang {
            Lang::Nl => format!(
                "geen bedrag: de aanpak is goedkoper ({} per persoon) én heeft meer effect",
                e(x.incremental_cost)
            ),
            Lang::En => format!(
                "no amount: the approach is cheaper ({} per person) and has more effect",
                e(x.incremental_cost)
            ),
        },
        Some(_) => match lang {
            Lang::Nl => "geen bedrag: het geschatte effect is niet positief".into(),
            Lang::En => "no amount: the estimated effect is not positive".into(),
        },
        None => match lang {
            Lang::Nl => "geen bedrag: het geschatte effect is nul".into(),
            Lang::En => "no amount: the estimated effect is zero".into(),
        },
    };
    let boot = match (x.bootstrap_kind, x.bootstrap_low, x.bootstrap_high) {
        (Some(BootstrapKind::Bounded), Some(lo), Some(hi)) => match lang {
            Lang::Nl => Some(format!("bootstrap {} tot {}", e(lo), e(hi))),
            Lang::En => Some(format!("bootstrap {} to {}", e(lo), e(hi))),
        },
        (Some(BootstrapKind::TwoRays | BootstrapKind::Everything), _, _) => match lang {
            Lang::Nl => Some("bootstrap: ook onbegrensd".into()),
            Lang::En => Some("bootstrap: unbounded as well".into()),
        },
        _ => None,
    };
    let interval = match x.fieller {
        FiellerSet::Bounded { low, high } => {
            let boot = match (&boot, x.bootstrap_kind) {
                (Some(_), Some(BootstrapKind::TwoRays | BootstrapKind::Everything)) => match lang {
                    Lang::Nl => "; de bootstrap geeft een onbegrensd interval".into(),
                    Lang::En => "; the bootstrap gives an unbounded interval".into(),
                },
                (Some(b), _) => format!("; {b}"),
                _ => String::new(),
            };
            match lang {
                Lang::Nl => format!(
                    "{conf}%-interval {} tot {} (Fieller{boot})",
                    e(low),
                    e(high)
                ),
                Lang::En => format!("{conf}% interval {} to {} (Fieller{boot})", e(low), e(high)),
            }
        }
        _ => {
            let boot = match (&boot, x.bootstrap_kind) {
                (Some(b), Some(BootstrapKind::Bounded)) => match lang {
                    Lang::Nl => format!(" (de bootstrap geeft wel een begrensd interval, {b})"),
                    Lang::En => format!(" (the bootstrap does give a bounded interval, {b})"),
                },
                _ => String::new(),
            };
            match lang {
                Lang::Nl => format!(
                    "het {conf}%-interval (Fieller) is onbegrensd{boot}: de data sluiten niet uit dat de aanpak geen effect heeft, en dan is er geen bedrag per extra persoon"
                ),
                Lang::En => format!(
                    "the {conf}% interval (Fieller) is unbounded{boot}: the data do not rule out that the approach has no effect, and then there is no amount per extra person"
                ),
            }
        }
    };
    format!("{head}: {amount}; {interval}.")
}
