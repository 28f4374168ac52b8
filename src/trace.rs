//! `allseq trace`: each patient's attributes and events in time order, for face validity and
//! debugging. Uses the same engine and streams as `run`, with a recording observer.

use crate::engine::{
    Escape, Event, Ineligible, NoTransplant, Note, Observer, Outcome, Workspace, simulate,
};
use crate::model::{Cd22, Grade, Model};
use crate::patient::Attributes;
use crate::rng::RunKey;
use crate::time::Days;

/// One line of a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRow {
    /// Patient index.
    pub patient: u64,
    /// Strategy name.
    pub strategy: String,
    /// Time \[days\].
    pub day: f64,
    /// `event`, `note` or `outcome`.
    pub kind: &'static str,
    /// What happened.
    pub what: String,
}

/// Collects what the engine reports.
#[derive(Debug, Default)]
pub struct Recorder {
    items: Vec<(Days, Item)>,
}

#[derive(Debug, Clone, Copy)]
enum Item {
    Event(Event),
    Note(Note),
}

impl Observer for Recorder {
    fn event(&mut self, time: Days, event: Event, _: &Attributes) {
        self.items.push((time, Item::Event(event)));
    }
    fn note(&mut self, time: Days, note: Note, _: &Attributes) {
        self.items.push((time, Item::Note(note)));
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// One-line description of a patient's attributes.
pub fn describe_attributes(a: &Attributes) -> String {
    format!(
        "age {:.1}, burden {}, CNS {}, EMD {}, CD19{}, CD22 {}, Ph {}, KMT2A-r {}, prior HCT {}, donor {}, HCT-fit {}, salvage line {}",
        a.age,
        a.burden.label(),
        yes(a.cns),
        yes(a.extramedullary),
        if a.cd19_negative { "-" } else { "+" },
        match a.cd22 {
            Cd22::High => "high",
            Cd22::Partial => "partial",
            Cd22::Negative => "negative",
        },
        if a.ph_positive { "+" } else { "-" },
        yes(a.kmt2a),
        yes(a.prior_hct),
        yes(a.donor_available),
        yes(a.hct_fit),
        if a.salvage_line >= 3 {
            "3+".to_string()
        } else {
            a.salvage_line.to_string()
        },
    )
}

fn describe_event(e: Event) -> String {
    match e {
        Event::StartLine => "start next line".into(),
        Event::CycleEnd { cycle } => format!("end of cycle {cycle}"),
        Event::Apheresis => "apheresis; manufacturing starts".into(),
        Event::ManufacturingDone { failed: false } => "product ready; lymphodepletion".into(),
        Event::ManufacturingDone { failed: true } => "manufacturing FAILED".into(),
        Event::WaitingDropout => "dropout while waiting for CAR-T".into(),
        Event::Infusion => "CAR-T infusion".into(),
        Event::ResponseAssessment => "CAR-T response assessment".into(),
        Event::Toxicity { kind, grade, .. } => format!(
            "{} onset, {}",
            kind.label().to_uppercase(),
            match grade {
                Grade::Low => "grade 1-2",
                Grade::Severe => "grade >= 3",
                Grade::Fatal => "FATAL",
            }
        ),
        Event::Gvhd { chronic } => {
            format!("{} GVHD onset", if chronic { "chronic" } else { "acute" })
        }
        Event::Transplant => "allogeneic HCT".into(),
        Event::Relapse => "RELAPSE".into(),
        Event::Death(c) => format!("DEATH ({})", c.label()),
        Event::HorizonEnd => "end of horizon (censored)".into(),
    }
}

fn describe_note(model: &Model, n: Note) -> String {
    let name = |t: usize| model.therapies[t].name.as_str();
    match n {
        Note::Started { therapy, line } => format!("line {line}: {}", name(therapy)),
        Note::LineSkipped { index } => {
            format!(
                "strategy line {} skipped: its condition does not hold",
                index + 1
            )
        }
        Note::Skipped { therapy, reason } => format!(
            "{} not eligible ({})",
            name(therapy),
            match reason {
                Ineligible::Antigen => "target antigen absent",
                Ineligible::Age => "age",
                Ineligible::LabelAge => "over the label age, no trial access",
                Ineligible::Courses => "maximum courses reached",
                Ineligible::Condition => "strategy condition",
            }
        ),
        Note::Bridge { therapy } => format!("bridging with {}", name(therapy)),
        Note::BridgeResponse { therapy, responded } => format!(
            "bridge {} {}",
            name(therapy),
            if responded {
                "worked: burden at infusion mrd_only"
            } else {
                "did not reduce the burden"
            }
        ),
        Note::Response {
            therapy,
            mrd_negative,
        } => format!(
            "response to {} (MRD-{})",
            name(therapy),
            if mrd_negative { "negative" } else { "positive" }
        ),
        Note::NoResponse { therapy } => format!("{} failed", name(therapy)),
        Note::ApheresisFailed => "apheresis failed: too few T cells".into(),
        Note::CyclesCapped { left } => {
            format!("consolidation capped before HCT: {left} more cycle(s)")
        }
        Note::TransplantPlanned { at } => format!("HCT planned for day {at}"),
        Note::NoTransplant(NoTransplant::Rule) => "no HCT: the strategy's rule excludes it".into(),
        Note::NoTransplant(NoTransplant::NotEligible) => {
            "no HCT: not eligible (donor, fitness, age or transplants so far)".into()
        }
        Note::BecameIneligible => "became ineligible; moves on".into(),
        Note::TransplantDeathAt(at) => format!("transplant-related death at day {at}"),
        Note::RelapseAt {
            burden,
            cns,
            extramedullary,
        } => format!(
            "relapse burden {}{}{}",
            burden.label(),
            if cns { ", CNS" } else { "" },
            if extramedullary {
                ", extramedullary"
            } else {
                ""
            }
        ),
        Note::Escaped(Escape::Cd19) => "leukemia now CD19-negative".into(),
        Note::Escaped(Escape::Cd22) => "leukemia now CD22-negative".into(),
        Note::Escaped(Escape::Lineage) => "LINEAGE SWITCH: no B-lineage target left".into(),
        Note::Supportive => "best supportive care".into(),
    }
}

fn describe_outcome(o: &Outcome) -> String {
    let end = match o.death {
        Some(c) => format!("died ({}) at day {}", c.label(), o.end),
        None => format!("alive at day {} (censored)", o.end),
    };
    let efs = if o.efs_event {
        format!("EFS event at day {}", o.efs)
    } else {
        "no EFS event".into()
    };
    format!(
        "{end}; {efs}; lines {}, relapses {}, transplants {}",
        o.lines, o.relapses, o.transplants
    )
}

/// Traces `patients` patients under the strategies `strategies` (indices), handing each
/// patient's rows (every strategy's, in order) to `each` as soon as they are made, so that a
/// long trace streams in constant memory. Stops at the first error of `each`.
///
/// # Errors
/// The first error `each` returns.
pub fn trace<E>(
    model: &Model,
    seed: u64,
    patients: u64,
    strategies: &[usize],
    mut each: impl FnMut(&[TraceRow]) -> Result<(), E>,
) -> Result<(), E> {
    let run = RunKey::new(seed);
    let mut ws = Workspace::new(model);
    let mut rows = Vec::new();
    for patient in 0..patients {
        rows.clear();
        let attrs = ws.attributes(model, run, patient);
        for &s in strategies {
            let name = model.strategies[s].name.clone();
            let row = |day: f64, kind, what| TraceRow {
                patient,
                strategy: name.clone(),
                day,
                kind,
                what,
            };
            rows.push(row(0.0, "patient", describe_attributes(&attrs)));
            let mut rec = Recorder::default();
            let outcome = simulate(model, s, run, patient, &attrs, &mut ws, &mut rec);
            for (t, item) in rec.items {
                rows.push(match item {
                    Item::Event(e) => row(t.get(), "event", describe_event(e)),
                    Item::Note(n) => row(t.get(), "note", describe_note(model, n)),
                });
            }
            rows.push(row(
                outcome.end.get(),
                "outcome",
                describe_outcome(&outcome),
            ));
        }
        each(&rows)?;
    }
    Ok(())
}

/// Human-readable rendering, grouped by patient and strategy.
pub fn to_text(rows: &[TraceRow]) -> String {
    let mut out = String::new();
    let mut current: Option<(u64, &str)> = None;
    for r in rows {
        if current != Some((r.patient, r.strategy.as_str())) {
            current = Some((r.patient, r.strategy.as_str()));
            out.push_str(&format!(
                "\npatient {} | strategy {}\n",
                r.patient, r.strategy
            ));
        }
        let indent = if r.kind == "note" { "    " } else { "  " };
        match r.kind {
            "patient" => out.push_str(&format!("  attributes: {}\n", r.what)),
            "outcome" => out.push_str(&format!("  => {}\n", r.what)),
            _ => out.push_str(&format!("{indent}day {:>9.2}  {}\n", r.day, r.what)),
        }
    }
    out
}

/// CSV rendering: `patient, strategy, day, kind, what`, with the header line if `header`.
///
/// # Errors
/// A CSV writer error (never expected for in-memory output).
pub fn to_csv(rows: &[TraceRow], header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if header {
        w.write_record(["patient", "strategy", "day", "kind", "what"])?;
    }
    for r in rows {
        w.write_record([
            r.patient.to_string(),
            r.strategy.clone(),
            format!("{:.4}", r.day),
            r.kind.to_string(),
            r.what.clone(),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}
