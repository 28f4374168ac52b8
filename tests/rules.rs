//! The clinical pathway's rules, checked on every event of thousands of simulated trajectories.
//!
//! Each test builds a small purpose-made scenario (TOML text in the current format), simulates
//! a cohort with a [`Recorder`] that keeps every event and note with a copy of the patient's
//! state at that moment, and checks a rule on each record. Each test also asserts that the rule
//! was exercised many times (the situation it forbids came up and was handled), so none can pass
//! vacuously; a comment at each check says how it would fail if the rule were broken.
//!
//! Statistical checks use 3 Monte Carlo standard errors (a false alarm about 1 time in 370 per
//! check if the engine were right; the seeds are fixed, so a pass is reproducible).

use allseq::engine::{
    Cause, Escape, Event, Ineligible, NoTransplant, Note, Observer, Outcome, Workspace, simulate,
};
use allseq::error::ScenarioError;
use allseq::model::{Burden, Cd22, Model, Target, TherapyId, TherapyKind, ToxKind};
use allseq::patient::Attributes;
use allseq::rng::RunKey;
use allseq::runner::{RunOptions, run};
use allseq::scenario;
use allseq::time::Days;

// ---------------------------------------------------------------------------------------------
// Recording trajectories
// ---------------------------------------------------------------------------------------------

/// An event or a note.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Item {
    Event(Event),
    Note(Note),
}

/// `t` in years of 365.25 days, computed here rather than by the engine's own `Days::years`,
/// so that a wrong conversion there cannot hide behind the same one in the checks.
fn years(t: Days) -> f64 {
    t.get() / 365.25
}

/// One record: what happened, when, and the patient's state at that moment.
#[derive(Debug, Clone, Copy)]
struct Rec {
    t: Days,
    item: Item,
    state: Attributes,
}

impl Rec {
    /// Age at this record [years] (the state carries the age at time 0).
    fn age(&self) -> f64 {
        self.state.age + years(self.t)
    }
}

/// A record (and the CAR-T course state) for failure messages, formatted only on failure.
struct Show<'a>(&'a Rec, Option<Pipe>);

impl std::fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} at day {}", self.0.item, self.0.t.get())?;
        if let Some(p) = self.1 {
            write!(f, " in {p:?}")?;
        }
        write!(f, " (state {:?})", self.0.state)
    }
}

/// An [`Observer`] that keeps everything.
#[derive(Debug, Default)]
struct Recorder {
    log: Vec<Rec>,
}

impl Observer for Recorder {
    fn event(&mut self, t: Days, event: Event, state: &Attributes) {
        self.log.push(Rec {
            t,
            item: Item::Event(event),
            state: *state,
        });
    }

    fn note(&mut self, t: Days, note: Note, state: &Attributes) {
        self.log.push(Rec {
            t,
            item: Item::Note(note),
            state: *state,
        });
    }
}

/// One patient's trajectory under one strategy.
#[derive(Debug)]
struct Trajectory {
    attrs: Attributes,
    log: Vec<Rec>,
    out: Outcome,
}

/// Simulates patients `0..n` of run `seed` under `strategy`, recording everything.
fn trajectories(model: &Model, strategy: usize, n: u64, seed: u64) -> Vec<Trajectory> {
    let run = RunKey::new(seed);
    let mut ws = Workspace::new(model);
    (0..n)
        .map(|patient| {
            let attrs = ws.attributes(model, run, patient);
            let mut rec = Recorder::default();
            let out = simulate(model, strategy, run, patient, &attrs, &mut ws, &mut rec);
            Trajectory {
                attrs,
                log: rec.log,
                out,
            }
        })
        .collect()
}

/// The id of the therapy called `name`.
fn id(model: &Model, name: &str) -> TherapyId {
    model
        .therapies
        .iter()
        .position(|t| t.name == name)
        .unwrap_or_else(|| panic!("no therapy `{name}`"))
}

fn is_car_t(model: &Model, therapy: TherapyId) -> bool {
    matches!(model.therapies[therapy].kind, TherapyKind::CarT(_))
}

/// Binomial standard error of a proportion `p` over `n` trials.
fn binomial_se(p: f64, n: u64) -> f64 {
    (p * (1.0 - p) / n as f64).sqrt()
}

// ---------------------------------------------------------------------------------------------
// Building scenarios from parts
// ---------------------------------------------------------------------------------------------

/// `key = value` lines: `defaults`, with each override replacing the default of the same key or
/// added after them (optional fields such as `escape`). A misspelt key is caught by the
/// scenario parser, which accepts no unknown field.
fn table(header: &str, defaults: &[(&str, &str)], overrides: &[(&str, &str)]) -> String {
    let mut rows: Vec<(&str, &str)> = defaults.to_vec();
    for &(k, v) in overrides {
        match rows.iter_mut().find(|(key, _)| *key == k) {
            Some(row) => row.1 = v,
            None => rows.push((k, v)),
        }
    }
    let mut s = format!("{header}\n");
    for (k, v) in rows {
        s.push_str(&format!("{k} = {v}\n"));
    }
    s
}

/// Adults 18-60 with active disease, all CD19- and CD22-positive, all with a donor and fit, in
/// first salvage; negligible background mortality.
const POPULATION: &[(&str, &str)] = &[
    ("age", r#"{ dist = "uniform", min = 18.0, max = 60.0 }"#),
    (
        "burden",
        "{ mrd_only = 0.1, blasts_lt5 = 0.2, blasts_5_49 = 0.4, blasts_ge50 = 0.3 }",
    ),
    ("cns", "0.1"),
    ("extramedullary", "0.1"),
    ("cd19_negative", "0.0"),
    ("cd22", "{ high = 0.9, partial = 0.1, negative = 0.0 }"),
    ("ph_positive", "0.1"),
    ("kmt2a", "0.05"),
    ("prior_hct", "0.0"),
    ("donor_available", "1.0"),
    ("hct_fit", "1.0"),
    (
        "salvage_line",
        "{ first = 1.0, second = 0.0, third_plus = 0.0 }",
    ),
    (
        "relapse_burden",
        "{ mrd_only = 0.1, blasts_lt5 = 0.2, blasts_5_49 = 0.4, blasts_ge50 = 0.3 }",
    ),
    ("relapse_cns", "0.1"),
    ("relapse_extramedullary", "0.1"),
    (
        "background_mortality",
        r#"{ model = "gompertz", baseline_hazard = 1e-6, age_slope = 0.08, max_age = 110.0 }"#,
    ),
];

/// A CD19-directed antibody (blinatumomab-like).
const BLIN: &[(&str, &str)] = &[
    ("kind", r#""antibody""#),
    ("target", r#""cd19""#),
    ("max_courses", "1"),
    ("cycle_days", "42"),
    ("induction_cycles", "2"),
    ("consolidation_cycles", "2"),
    ("response", "0.6"),
    ("responders_by_cycle_1", "0.8"),
    ("mrd_negative", "0.7"),
    (
        "relapse",
        r#"{ dist = "exponential", mean = 8.0, unit = "months" }"#,
    ),
    ("mrd_positive_relapse_hr", "2.0"),
    ("toxicities", "[]"),
];

/// A CD22-directed antibody-drug conjugate (inotuzumab-like).
const INO: &[(&str, &str)] = &[
    ("kind", r#""adc""#),
    ("target", r#""cd22""#),
    ("max_courses", "1"),
    ("cycle_days", "28"),
    ("induction_cycles", "3"),
    ("consolidation_cycles", "2"),
    ("response", "0.7"),
    ("responders_by_cycle_1", "0.7"),
    ("mrd_negative", "0.75"),
    (
        "relapse",
        r#"{ dist = "exponential", mean = 7.0, unit = "months" }"#,
    ),
    ("mrd_positive_relapse_hr", "2.0"),
    ("toxicities", "[]"),
];

/// Salvage chemotherapy, not antigen-directed.
const CHEMO: &[(&str, &str)] = &[
    ("kind", r#""chemotherapy""#),
    ("target", r#""none""#),
    ("max_courses", "1"),
    ("cycle_days", "28"),
    ("induction_cycles", "1"),
    ("consolidation_cycles", "1"),
    ("response", "0.3"),
    ("responders_by_cycle_1", "1.0"),
    ("mrd_negative", "0.5"),
    (
        "relapse",
        r#"{ dist = "exponential", mean = 6.0, unit = "months" }"#,
    ),
    ("mrd_positive_relapse_hr", "2.0"),
    ("toxicities", "[]"),
];

/// A CD19 CAR-T.
const CAR_T: &[(&str, &str)] = &[
    ("kind", r#""car_t""#),
    ("target", r#""cd19""#),
    ("max_courses", "1"),
    ("apheresis_days", "7"),
    ("apheresis_success", "0.95"),
    (
        "manufacturing",
        r#"{ dist = "lognormal", median = 30.0, sigma = 0.3, unit = "days" }"#,
    ),
    ("manufacturing_failure", "0.1"),
    (
        "waiting_dropout",
        r#"{ dist = "exponential", mean = 300.0, unit = "days" }"#,
    ),
    ("dropout_death_fraction", "0.5"),
    ("lymphodepletion_days", "5"),
    ("assessment_days", "28"),
    ("response", "0.8"),
    ("mrd_negative", "0.8"),
    (
        "relapse",
        r#"{ dist = "exponential", mean = 10.0, unit = "months" }"#,
    ),
    ("mrd_positive_relapse_hr", "2.0"),
    ("toxicities", "[]"),
];

/// Allogeneic HCT.
const HCT: &[(&str, &str)] = &[
    ("kind", r#""hct""#),
    ("max_age", "70.0"),
    ("max_transplants", "1"),
    (
        "time_to_transplant",
        r#"{ dist = "exponential", mean = 60.0, unit = "days" }"#,
    ),
    ("trm", "0.15"),
    ("trm_second", "0.3"),
    ("trm_after_sos", "0.4"),
    (
        "trm_time",
        r#"{ dist = "exponential", mean = 90.0, unit = "days" }"#,
    ),
    (
        "acute_gvhd",
        "{ probability = 0.3, onset_days = 30, duration_days = 60 }",
    ),
    (
        "chronic_gvhd",
        "{ probability = 0.3, onset_days = 180, duration_days = 365 }",
    ),
    (
        "relapse",
        r#"{ dist = "mixture_cure", cure_fraction = 0.5, uncured = { dist = "exponential", mean = 8.0, unit = "months" } }"#,
    ),
    ("mrd_positive_relapse_hr", "2.0"),
];

fn therapy(name: &str, defaults: &[(&str, &str)], overrides: &[(&str, &str)]) -> String {
    table(&format!("[therapies.{name}]"), defaults, overrides)
}

/// `escape = { ... }` with the four probabilities, as an override pair.
fn escape(cd19_relapse: f64, cd19_failure: f64, cd22_relapse: f64, lineage: f64) -> String {
    format!(
        "{{ cd19_negative_at_relapse = {cd19_relapse}, cd19_negative_at_failure = {cd19_failure}, \
         cd22_negative_at_relapse = {cd22_relapse}, lineage_switch_at_relapse = {lineage} }}"
    )
}

/// A `[[strategies]]` table; `lines` is the inside of `lines = [...]`, one inline table a line.
fn strategy(name: &str, lines: &[&str], consolidation: Option<&str>) -> String {
    let mut s = format!(
        "[[strategies]]\nname = \"{name}\"\ndescription = \"test\"\nlines = [\n    {}\n]\n",
        lines.join(",\n    ")
    );
    if let Some(c) = consolidation {
        s.push_str(&format!("consolidation = {c}\n"));
    }
    s.push_str("supportive = \"bsc\"\n");
    s
}

/// The whole scenario text: a 10-year horizon, `POPULATION` with `population` overrides, the
/// therapies (plus `bsc`, supportive care with a 3-month mean survival) and the strategies.
fn text(
    trial_access: bool,
    population: &[(&str, &str)],
    therapies: &[String],
    strategies: &[String],
) -> String {
    format!(
        "name = \"rules\"\nseed = 1\npatients = 1000\nhorizon = {{ years = 10.0 }}\n\
         trial_access = {trial_access}\n\n{}\n{}\n{}\n{}",
        table("[population]", POPULATION, population),
        therapy(
            "bsc",
            &[
                ("kind", r#""supportive""#),
                (
                    "survival",
                    r#"{ dist = "exponential", mean = 3.0, unit = "months" }"#,
                ),
            ],
            &[],
        ),
        therapies.join("\n"),
        strategies.join("\n"),
    )
}

fn try_model(
    trial_access: bool,
    population: &[(&str, &str)],
    therapies: &[String],
    strategies: &[String],
) -> Result<Model, ScenarioError> {
    let text = text(trial_access, population, therapies, strategies);
    scenario::parse("rules.toml".as_ref(), &text)
}

fn model(
    trial_access: bool,
    population: &[(&str, &str)],
    therapies: &[String],
    strategies: &[String],
) -> Model {
    try_model(trial_access, population, therapies, strategies).unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------------------------------
// Rules 1 and 2: antigen-directed therapy only for antigen-positive disease
// ---------------------------------------------------------------------------------------------

/// Frequent antigen loss: 30% CD19-negative and 20% CD22-negative at the start, and every
/// targeted therapy strips its antigen at relapse or failure with high probability. Lines offer
/// CD19- and CD22-directed therapies in both orders, and CD19 and CD22 CAR-T with bridges of
/// both targets, so that antigen-negative patients keep meeting candidates and bridges they
/// must not get.
fn antigen_scenario() -> Model {
    let blin_escape = escape(0.6, 0.4, 0.0, 0.05);
    let car19_escape = escape(0.5, 0.3, 0.0, 0.05);
    let cd22_escape = escape(0.0, 0.0, 0.5, 0.0);
    model(
        false,
        &[
            ("cd19_negative", "0.3"),
            ("cd22", "{ high = 0.6, partial = 0.2, negative = 0.2 }"),
        ],
        &[
            therapy(
                "blin",
                BLIN,
                &[("max_courses", "3"), ("escape", &blin_escape)],
            ),
            therapy(
                "ino",
                INO,
                &[("max_courses", "3"), ("escape", &cd22_escape)],
            ),
            therapy("chemo", CHEMO, &[("max_courses", "4")]),
            therapy(
                "cart19",
                CAR_T,
                &[("max_courses", "2"), ("escape", &car19_escape)],
            ),
            therapy(
                "cart22",
                CAR_T,
                &[
                    ("target", r#""cd22""#),
                    ("max_courses", "2"),
                    ("escape", &cd22_escape),
                ],
            ),
        ],
        &[strategy(
            "antigens",
            &[
                r#"{ therapies = ["blin", "ino", "chemo"] }"#,
                r#"{ therapies = ["cart19", "cart22", "chemo"], bridge = ["blin", "ino", "chemo"] }"#,
                r#"{ therapies = ["ino", "blin", "chemo"] }"#,
                r#"{ therapies = ["cart22", "cart19", "chemo"], bridge = ["ino", "blin", "chemo"] }"#,
                r#"{ therapies = ["blin", "ino", "chemo"] }"#,
            ],
            None,
        )],
    )
}

/// Rule 1: a CD19-negative patient never receives a CD19-directed therapy, as a line or as a
/// bridge.
#[test]
fn cd19_negative_patients_never_get_cd19_directed_therapy() {
    let m = antigen_scenario();
    let cd19 = |t: TherapyId| m.therapies[t].target == Target::Cd19;
    let mut cd19_given = 0;
    let mut antigen_skips = 0;
    let mut escaped_then_skipped = 0;
    let mut cd19_negative_bridged = 0;
    for tr in trajectories(&m, 0, 6_000, 1) {
        let mut escaped = false;
        let mut counted = false;
        for r in &tr.log {
            match r.item {
                // If the engine ignored the antigen (or checked the baseline instead of the
                // current state), a CD19-directed start or bridge would carry a state with
                // cd19_negative = true.
                Item::Note(Note::Started { therapy, .. })
                | Item::Note(Note::Bridge { therapy })
                    if cd19(therapy) =>
                {
                    assert!(
                        !r.state.cd19_negative,
                        "CD19-directed `{}` given to CD19-negative disease at day {}",
                        m.therapies[therapy].name,
                        r.t.get()
                    );
                    cd19_given += 1;
                }
                Item::Note(Note::Bridge { .. }) if r.state.cd19_negative => {
                    // Both bridge lists offer blin: it was passed over for the antigen.
                    cd19_negative_bridged += 1;
                }
                Item::Note(Note::Escaped(Escape::Cd19 | Escape::Lineage)) => escaped = true,
                Item::Note(Note::Skipped {
                    therapy,
                    reason: Ineligible::Antigen,
                }) if cd19(therapy) => {
                    assert!(
                        r.state.cd19_negative,
                        "antigen skip of CD19-positive disease"
                    );
                    antigen_skips += 1;
                    if escaped && !counted {
                        escaped_then_skipped += 1;
                        counted = true;
                    }
                }
                _ => {}
            }
        }
    }
    // Exercised: CD19-directed therapy is given often, and CD19-negative patients (at the
    // start, and after an escape during the strategy) often met a CD19-directed candidate.
    assert!(
        cd19_given >= 3_000,
        "CD19-directed courses given: {cd19_given}"
    );
    assert!(
        antigen_skips >= 2_000,
        "CD19 antigen skips: {antigen_skips}"
    );
    assert!(
        escaped_then_skipped >= 300,
        "patients who lost CD19 and then met a CD19-directed candidate: {escaped_then_skipped}"
    );
    assert!(
        cd19_negative_bridged >= 100,
        "CD19-negative patients bridged past blinatumomab: {cd19_negative_bridged}"
    );
}

/// Rule 2: inotuzumab (and any CD22-directed therapy) never goes to CD22-negative disease.
#[test]
fn cd22_negative_patients_never_get_inotuzumab() {
    let m = antigen_scenario();
    let ino = id(&m, "ino");
    let cd22 = |t: TherapyId| m.therapies[t].target == Target::Cd22;
    let mut ino_given = 0;
    let mut ino_bridges = 0;
    let mut ino_skips = 0;
    let mut escaped_then_skipped = 0;
    let mut cd22_negative_bridged = 0;
    for tr in trajectories(&m, 0, 6_000, 2) {
        let mut escaped = false;
        let mut counted = false;
        for r in &tr.log {
            match r.item {
                // Would fail if the engine gave a CD22-directed therapy (line or bridge) to a
                // patient whose current CD22 status is negative.
                Item::Note(Note::Started { therapy, .. })
                | Item::Note(Note::Bridge { therapy })
                    if cd22(therapy) =>
                {
                    assert_ne!(
                        r.state.cd22,
                        Cd22::Negative,
                        "CD22-directed `{}` given to CD22-negative disease at day {}",
                        m.therapies[therapy].name,
                        r.t.get()
                    );
                    if therapy == ino {
                        if matches!(r.item, Item::Note(Note::Bridge { .. })) {
                            ino_bridges += 1;
                        } else {
                            ino_given += 1;
                        }
                    }
                }
                Item::Note(Note::Bridge { .. }) if r.state.cd22 == Cd22::Negative => {
                    // Both bridge lists offer ino: it was passed over for the antigen.
                    cd22_negative_bridged += 1;
                }
                Item::Note(Note::Escaped(Escape::Cd22 | Escape::Lineage)) => escaped = true,
                Item::Note(Note::Skipped {
                    therapy,
                    reason: Ineligible::Antigen,
                }) if therapy == ino => {
                    assert_eq!(r.state.cd22, Cd22::Negative);
                    ino_skips += 1;
                    if escaped && !counted {
                        escaped_then_skipped += 1;
                        counted = true;
                    }
                }
                _ => {}
            }
        }
    }
    assert!(ino_given >= 1_000, "inotuzumab lines: {ino_given}");
    assert!(ino_bridges >= 100, "inotuzumab bridges: {ino_bridges}");
    assert!(ino_skips >= 1_000, "inotuzumab antigen skips: {ino_skips}");
    assert!(
        escaped_then_skipped >= 200,
        "patients who lost CD22 and then met inotuzumab: {escaped_then_skipped}"
    );
    assert!(
        cd22_negative_bridged >= 50,
        "CD22-negative patients bridged past inotuzumab: {cd22_negative_bridged}"
    );
}

// ---------------------------------------------------------------------------------------------
// Rule 3: CAR-T infusion only after successful manufacturing of the same course
// ---------------------------------------------------------------------------------------------

/// Where a CAR-T course stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pipe {
    /// No CAR-T course under way.
    Idle,
    /// CAR-T started (decision), apheresis pending.
    Decided,
    /// Apheresis done, product being made.
    Collected,
    /// Not enough T cells collected: the course ended at apheresis.
    NoCells,
    /// Product released at this time.
    Made(Days),
    /// Manufacturing failed.
    Failed,
    /// Patient dropped out while waiting.
    Dropped,
    /// Cells infused.
    Infused,
}

#[test]
fn car_t_infused_only_after_successful_manufacturing_of_the_same_course() {
    // Frequent manufacturing failure and a second CAR-T course in the next line, so that an
    // infusion could wrongly follow a failed product, or reuse the first course's product.
    let m = model(
        false,
        &[],
        &[
            therapy(
                "cart",
                CAR_T,
                &[
                    ("max_courses", "2"),
                    ("manufacturing_failure", "0.35"),
                    ("apheresis_success", "0.9"),
                    (
                        "waiting_dropout",
                        r#"{ dist = "exponential", mean = 150.0, unit = "days" }"#,
                    ),
                    ("response", "0.5"),
                ],
            ),
            therapy("chemo", CHEMO, &[]),
        ],
        &[strategy(
            "car_t_twice",
            &[
                r#"{ therapies = ["cart"], bridge = ["chemo"] }"#,
                r#"{ therapies = ["cart"] }"#,
            ],
            None,
        )],
    );
    let cart = id(&m, "cart");
    let TherapyKind::CarT(c) = &m.therapies[cart].kind else {
        unreachable!()
    };
    let ld = c.lymphodepletion_days;
    let (mut failed, mut infused, mut dropped, mut no_cells) = (0, 0, 0, 0);
    let (mut second_after_failure, mut infused_after_failure) = (0, 0);
    for tr in trajectories(&m, 0, 5_000, 3) {
        let mut pipe = Pipe::Idle;
        let (mut courses, mut any_failed, mut any_infused) = (0, false, false);
        let mut earlier_failure = false;
        for r in &tr.log {
            let what = Show(r, Some(pipe));
            match r.item {
                Item::Note(Note::Started { therapy, .. }) if is_car_t(&m, therapy) => {
                    // A new course: the previous one must be over (failed, dropped, infused).
                    assert!(
                        matches!(
                            pipe,
                            Pipe::Idle
                                | Pipe::NoCells
                                | Pipe::Failed
                                | Pipe::Dropped
                                | Pipe::Infused
                        ),
                        "{what}"
                    );
                    courses += 1;
                    if courses == 2 && earlier_failure {
                        second_after_failure += 1;
                    }
                    pipe = Pipe::Decided;
                }
                Item::Event(Event::Apheresis) => {
                    assert_eq!(pipe, Pipe::Decided, "{what}");
                    pipe = Pipe::Collected;
                }
                Item::Note(Note::ApheresisFailed) => {
                    assert_eq!(pipe, Pipe::Collected, "{what}");
                    no_cells += 1;
                    pipe = Pipe::NoCells;
                }
                Item::Event(Event::ManufacturingDone { failed: f }) => {
                    assert_eq!(pipe, Pipe::Collected, "{what}");
                    if f {
                        failed += 1;
                        any_failed = true;
                        earlier_failure = true;
                        pipe = Pipe::Failed;
                    } else {
                        pipe = Pipe::Made(r.t);
                    }
                }
                Item::Event(Event::WaitingDropout) => {
                    assert!(matches!(pipe, Pipe::Collected | Pipe::Made(_)), "{what}");
                    dropped += 1;
                    pipe = Pipe::Dropped;
                }
                // The rule: an infusion only from the state "this course's product was made",
                // and after lymphodepletion. An infusion before manufacturing is done would be
                // seen in `Collected`; after a failure in `Failed`; a second infusion of the
                // same product in `Infused`; one after dropout in `Dropped`; one without cells
                // in `NoCells`.
                Item::Event(Event::Infusion) => {
                    let Pipe::Made(made) = pipe else {
                        panic!("infusion without a product: {what}")
                    };
                    assert!(r.t.get() >= made.get() + ld - 1e-9, "{what}");
                    infused += 1;
                    any_infused = true;
                    if earlier_failure {
                        infused_after_failure += 1;
                    }
                    pipe = Pipe::Infused;
                }
                _ => {}
            }
        }
        assert_eq!(tr.out.manufacturing_failed, any_failed);
        assert_eq!(tr.out.car_t_infused, any_infused);
    }
    assert!(failed >= 1_000, "failed products: {failed}");
    assert!(infused >= 2_000, "infusions: {infused}");
    assert!(dropped >= 300, "dropouts: {dropped}");
    assert!(no_cells >= 300, "apheresis failures: {no_cells}");
    assert!(
        second_after_failure >= 500,
        "second courses after a failed product: {second_after_failure}"
    );
    assert!(
        infused_after_failure >= 200,
        "infusions of a second product after a failed one: {infused_after_failure}"
    );
}

// ---------------------------------------------------------------------------------------------
// Rule 4: nothing after death
// ---------------------------------------------------------------------------------------------

#[test]
fn nothing_happens_after_death() {
    // Every cause of death is frequent: fatal infection on chemotherapy (landing exactly on the
    // end of its first cycle, day 14 + 14 = 28, to test ties), fatal CRS, death waiting for
    // CAR-T, transplant-related death, fatal SOS at transplant after inotuzumab, leukemia in
    // supportive care, and background death of older patients; the 10-year horizon censors
    // the rest.
    let m = model(
        false,
        &[
            ("age", r#"{ dist = "uniform", min = 18.0, max = 85.0 }"#),
            (
                "background_mortality",
                r#"{ model = "gompertz", baseline_hazard = 1e-4, age_slope = 0.08, max_age = 110.0 }"#,
            ),
        ],
        &[
            therapy(
                "chemo",
                CHEMO,
                &[(
                    "toxicities",
                    r#"[{ kind = "infection", any_grade = 0.5, grade3plus = 0.3, fatal = 0.15, onset_days = 14, duration_days = 14 }]"#,
                )],
            ),
            therapy(
                "cart",
                CAR_T,
                &[
                    (
                        "toxicities",
                        r#"[{ kind = "crs", any_grade = 0.7, grade3plus = 0.3, fatal = 0.08, onset_days = 2, duration_days = 7 }]"#,
                    ),
                    (
                        "waiting_dropout",
                        r#"{ dist = "exponential", mean = 100.0, unit = "days" }"#,
                    ),
                ],
            ),
            therapy(
                "ino",
                INO,
                &[(
                    "hct_sos",
                    r#"{ probability = 0.4, cycles_above = 2, cycles_odds_ratio = 2.0, prior_hct_odds_ratio = 2.0, fatal = 0.5, onset_days = 14, duration_days = 21 }"#,
                )],
            ),
            therapy("hct", HCT, &[("max_age", "90.0"), ("trm", "0.3")]),
        ],
        &[strategy(
            "many_deaths",
            &[
                r#"{ therapies = ["chemo"] }"#,
                r#"{ therapies = ["cart"] }"#,
                r#"{ therapies = ["ino"] }"#,
            ],
            Some(r#"{ therapy = "hct", after = ["chemo", "cart", "ino"] }"#),
        )],
    );
    let mut deaths = [0u32; Cause::COUNT];
    let (mut censored, mut ties) = (0, 0);
    for tr in trajectories(&m, 0, 6_000, 4) {
        let log = &tr.log;
        // Times never go backwards.
        assert!(log.windows(2).all(|w| w[0].t <= w[1].t));
        let death = log
            .iter()
            .position(|r| matches!(r.item, Item::Event(Event::Death(_))));
        match death {
            Some(i) => {
                let r = &log[i];
                let Item::Event(Event::Death(cause)) = r.item else {
                    unreachable!()
                };
                // If the loop went on after a death, the death would not be the last record.
                assert_eq!(
                    i,
                    log.len() - 1,
                    "records after death: {:?}",
                    &log[i + 1..].iter().map(|r| r.item).collect::<Vec<_>>()
                );
                assert_eq!(tr.out.end, r.t, "end is the time of death");
                assert_eq!(tr.out.death, Some(cause));
                deaths[cause as usize] += 1;
                // Death wins ties: a fatal infection at day 28 comes before the end of the
                // first chemotherapy cycle at the same instant, so that cycle end (and the
                // response it would bring) is never handled.
                if cause == Cause::Infection && r.t.get() == 28.0 {
                    ties += 1;
                    assert_eq!(
                        log.iter().filter(|q| q.t == r.t).count(),
                        1,
                        "something else happened at the instant of death"
                    );
                    assert!(!tr.out.first_response);
                }
            }
            None => {
                let last = log.last().unwrap();
                assert_eq!(last.item, Item::Event(Event::HorizonEnd));
                assert_eq!(tr.out.end, last.t);
                assert_eq!(tr.out.death, None);
                censored += 1;
            }
        }
    }
    for cause in [
        Cause::Disease,
        Cause::Background,
        Cause::WaitingForCarT,
        Cause::TransplantRelated,
        Cause::Crs,
        Cause::Sos,
        Cause::Infection,
    ] {
        assert!(
            deaths[cause as usize] >= 30,
            "deaths from {}: {}",
            cause.label(),
            deaths[cause as usize]
        );
    }
    assert!(censored >= 30, "censored: {censored}");
    assert!(ties >= 200, "deaths tied with a cycle end: {ties}");
}

// ---------------------------------------------------------------------------------------------
// Rule 5: HCT only in remission, only for eligible patients, at most max_transplants
// ---------------------------------------------------------------------------------------------

/// Patients 40-75 (the HCT limit is 70), 60% with a donor, 80% fit, 30% with a prior HCT; a
/// lifetime maximum of 2 transplants; four lines with HCT after each remission, so that
/// relapses after HCT lead to second transplants and to refusals at the maximum.
fn transplant_scenario(age: &str, time_to_transplant: &str) -> Model {
    model(
        false,
        &[
            ("age", age),
            ("donor_available", "0.6"),
            ("hct_fit", "0.8"),
            ("prior_hct", "0.3"),
        ],
        &[
            therapy("blin", BLIN, &[("response", "0.7")]),
            therapy("ino", INO, &[]),
            therapy("chemo", CHEMO, &[("max_courses", "2"), ("response", "0.5")]),
            therapy(
                "hct",
                HCT,
                &[
                    ("max_transplants", "2"),
                    ("time_to_transplant", time_to_transplant),
                    ("trm", "0.1"),
                    ("trm_second", "0.2"),
                    (
                        "relapse",
                        r#"{ dist = "mixture_cure", cure_fraction = 0.3, uncured = { dist = "exponential", mean = 6.0, unit = "months" } }"#,
                    ),
                ],
            ),
        ],
        &[strategy(
            "transplant_often",
            &[
                r#"{ therapies = ["blin"] }"#,
                r#"{ therapies = ["ino"] }"#,
                r#"{ therapies = ["chemo"] }"#,
                r#"{ therapies = ["chemo"] }"#,
            ],
            Some(r#"{ therapy = "hct", after = ["blin", "ino", "chemo"] }"#),
        )],
    )
}

#[test]
fn transplant_only_in_remission_for_eligible_patients_within_the_lifetime_maximum() {
    // A fixed 60-day wait from remission to transplant, so that the age at the date of the
    // transplant, where the age limit applies, is known at every decision.
    let wait = 60.0;
    let m = transplant_scenario(
        r#"{ dist = "uniform", min = 40.0, max = 75.0 }"#,
        &format!(r#"{{ dist = "fixed", value = {wait}, unit = "days" }}"#),
    );
    let TherapyKind::Hct(h) = &m.therapies[id(&m, "hct")].kind else {
        unreachable!()
    };
    let (max_age, max_transplants) = (h.max_age, h.max_transplants);
    let wait_years = wait / 365.25;
    let mut transplants = 0;
    let mut with_prior = 0;
    let mut two_in_strategy = 0;
    let mut refused_at_max = 0;
    let mut refused_for_age = 0;
    let mut refused_other = 0;
    let mut cancelled_by_relapse = 0;
    let mut no_donor_remissions = 0;
    for tr in trajectories(&m, 0, 8_000, 5) {
        let mut in_remission = false;
        let mut planned = false;
        let mut lifetime = u32::from(tr.attrs.prior_hct);
        let mut events = 0u8;
        for r in &tr.log {
            let what = Show(r, None);
            match r.item {
                Item::Note(Note::Response { .. }) => {
                    in_remission = true;
                    if !r.state.donor_available {
                        no_donor_remissions += 1;
                    }
                }
                Item::Event(Event::Relapse) => {
                    if planned {
                        cancelled_by_relapse += 1;
                    }
                    in_remission = false;
                    planned = false;
                }
                Item::Note(Note::TransplantPlanned { at }) => {
                    assert!(in_remission, "planned outside remission: {what}");
                    assert!(
                        r.state.age + years(at) <= max_age,
                        "planned for age {}: {what}",
                        r.state.age + years(at)
                    );
                    planned = true;
                }
                // A refusal must have a reason: would fail if the engine refused an eligible
                // patient (the refusals below are counted to show each reason came up).
                Item::Note(Note::NoTransplant(NoTransplant::NotEligible)) => {
                    let (donor, fit) = (r.state.donor_available, r.state.hct_fit);
                    let young = r.age() + wait_years <= max_age;
                    assert!(
                        !(donor && fit && young && lifetime < max_transplants),
                        "an eligible patient was refused: {what}"
                    );
                    if donor && fit && young {
                        refused_at_max += 1;
                    } else if donor && fit {
                        refused_for_age += 1;
                    } else {
                        refused_other += 1;
                    }
                }
                // The rule. A transplant after a relapse (not cancelled), or without a
                // response, fails `in_remission`; one for a patient without donor or fitness,
                // or older than max_age at the transplant, fails the state checks; a third
                // transplant, or a second after a prior HCT, fails the lifetime count.
                Item::Event(Event::Transplant) => {
                    assert!(in_remission, "transplant outside remission: {what}");
                    assert!(
                        planned,
                        "transplant without a plan in this remission: {what}"
                    );
                    assert!(r.state.donor_available, "transplant without donor: {what}");
                    assert!(r.state.hct_fit, "transplant of an unfit patient: {what}");
                    assert!(r.age() <= max_age, "transplant at age {}: {what}", r.age());
                    assert!(
                        lifetime < max_transplants,
                        "transplant number {} over the lifetime maximum {max_transplants}: {what}",
                        lifetime + 1
                    );
                    lifetime += 1;
                    events += 1;
                    planned = false;
                    transplants += 1;
                    if tr.attrs.prior_hct {
                        with_prior += 1;
                    }
                }
                _ => {}
            }
        }
        assert_eq!(tr.out.transplants, events);
        if !tr.attrs.donor_available {
            assert_eq!(
                tr.out.transplants, 0,
                "a patient without donor was transplanted"
            );
        }
        assert!(u32::from(tr.attrs.prior_hct) + u32::from(tr.out.transplants) <= max_transplants);
        if events == 2 {
            two_in_strategy += 1;
        }
    }
    assert!(transplants >= 2_000, "transplants: {transplants}");
    assert!(
        with_prior >= 300,
        "transplants after a prior HCT: {with_prior}"
    );
    assert!(
        two_in_strategy >= 50,
        "two transplants in the strategy: {two_in_strategy}"
    );
    assert!(
        refused_at_max >= 100,
        "refused at the lifetime maximum: {refused_at_max}"
    );
    assert!(
        refused_for_age >= 300,
        "refused for age at the transplant date: {refused_for_age}"
    );
    assert!(
        refused_other >= 1_000,
        "refused for donor or fitness: {refused_other}"
    );
    assert!(
        no_donor_remissions >= 1_000,
        "remissions of patients without donor: {no_donor_remissions}"
    );
    assert!(
        cancelled_by_relapse >= 100,
        "planned transplants cancelled by a relapse: {cancelled_by_relapse}"
    );
}

/// Rule 5, age part: the age limit holds at the date of the transplant, not only at the
/// remission. Patients 60-72 with a fixed 120-day wait from remission to transplant: one who
/// is 69.9 at remission would be 70.2 at transplant. Would fail if the engine checked the age
/// at the remission only (some transplants over 70), or if it were stricter than the rule (no
/// transplant in the last weeks before 70).
#[test]
fn transplant_age_limit_holds_at_the_time_of_transplant() {
    let m = transplant_scenario(
        r#"{ dist = "uniform", min = 60.0, max = 72.0 }"#,
        r#"{ dist = "fixed", value = 120.0, unit = "days" }"#,
    );
    let TherapyKind::Hct(h) = &m.therapies[id(&m, "hct")].kind else {
        unreachable!()
    };
    let wait_years = 120.0 / 365.25;
    let mut transplants = 0;
    let mut remissions_near_limit = 0;
    let mut just_under = 0;
    let mut over: Vec<f64> = Vec::new();
    for tr in trajectories(&m, 0, 8_000, 6) {
        for r in &tr.log {
            match r.item {
                // Exercised: remissions of donor-holding, fit patients who are under the limit
                // now but would be over it at the transplant date.
                Item::Note(Note::Response { .. })
                    if r.state.donor_available
                        && r.state.hct_fit
                        && r.age() <= h.max_age
                        && r.age() + wait_years > h.max_age =>
                {
                    remissions_near_limit += 1;
                }
                Item::Event(Event::Transplant) => {
                    transplants += 1;
                    if r.age() > h.max_age {
                        over.push(r.age());
                    } else if r.age() > h.max_age - 0.1 {
                        just_under += 1;
                    }
                }
                _ => {}
            }
        }
    }
    assert!(transplants >= 1_000, "transplants: {transplants}");
    assert!(
        remissions_near_limit >= 30,
        "remissions within the wait of the age limit: {remissions_near_limit}"
    );
    assert!(
        just_under >= 5,
        "transplants in the last 0.1 year before the limit: {just_under}"
    );
    assert!(
        over.is_empty(),
        "{} transplants of patients older than max_age {} at transplant (oldest {:.2})",
        over.len(),
        h.max_age,
        over.iter().copied().fold(0.0, f64::max)
    );
}

// ---------------------------------------------------------------------------------------------
// Rule 6: the label age of CAR-T and trial access
// ---------------------------------------------------------------------------------------------

fn label_age_scenario(trial_access: bool) -> Model {
    model(
        trial_access,
        &[("age", r#"{ dist = "uniform", min = 5.0, max = 70.0 }"#)],
        &[
            therapy(
                "cart",
                CAR_T,
                &[
                    ("label_max_age", "25.0"),
                    ("max_age", "50.0"),
                    ("max_courses", "2"),
                    ("response", "0.5"),
                ],
            ),
            therapy("blin", BLIN, &[]),
            therapy("chemo", CHEMO, &[]),
        ],
        &[strategy(
            "car_t_if_allowed",
            &[
                r#"{ therapies = ["cart", "blin"] }"#,
                r#"{ therapies = ["cart", "chemo"] }"#,
            ],
            None,
        )],
    )
}

#[test]
fn car_t_label_age_applies_without_trial_access_and_is_waived_with_it() {
    // Without trial access: nobody older than 25 (at the time of the decision) starts CAR-T.
    // Would fail if the label age were ignored, or checked on the age at time 0 only (patients
    // who turn 26 before their second line).
    let m = label_age_scenario(false);
    let cart = id(&m, "cart");
    let (mut young_starts, mut label_skips, mut turned_over) = (0, 0, 0);
    for tr in trajectories(&m, 0, 4_000, 7) {
        for r in &tr.log {
            match r.item {
                Item::Note(Note::Started { therapy, .. }) if therapy == cart => {
                    assert!(r.age() <= 25.0, "CAR-T started at age {}", r.age());
                    young_starts += 1;
                }
                Item::Note(Note::Skipped {
                    therapy,
                    reason: Ineligible::LabelAge,
                }) if therapy == cart => {
                    assert!(r.age() > 25.0);
                    label_skips += 1;
                    if r.state.age <= 25.0 {
                        turned_over += 1;
                    }
                }
                _ => {}
            }
        }
    }
    assert!(young_starts >= 500, "CAR-T starts at <= 25: {young_starts}");
    assert!(label_skips >= 2_000, "label-age skips: {label_skips}");
    assert!(
        turned_over >= 1,
        "patients over the label age by their second line: {turned_over}"
    );

    // With trial access: older patients get CAR-T, but the fitness limit (max_age 50) stays.
    // Would fail if trial access did not waive the label, or waived max_age too.
    let m = label_age_scenario(true);
    let cart = id(&m, "cart");
    let (mut older_starts, mut too_old_skips) = (0, 0);
    for tr in trajectories(&m, 0, 4_000, 7) {
        for r in &tr.log {
            match r.item {
                Item::Note(Note::Started { therapy, .. }) if therapy == cart => {
                    assert!(r.age() <= 50.0, "CAR-T started at age {}", r.age());
                    if r.age() > 25.0 {
                        older_starts += 1;
                    }
                }
                Item::Note(Note::Skipped { therapy, reason }) if therapy == cart => {
                    assert_ne!(
                        reason,
                        Ineligible::LabelAge,
                        "label applied with trial access"
                    );
                    if reason == Ineligible::Age {
                        too_old_skips += 1;
                    }
                }
                _ => {}
            }
        }
    }
    assert!(
        older_starts >= 500,
        "CAR-T starts at > 25 with trial access: {older_starts}"
    );
    assert!(
        too_old_skips >= 500,
        "skips over max_age 50: {too_old_skips}"
    );
}

// ---------------------------------------------------------------------------------------------
// Rule 7: SOS after inotuzumab is more frequent when HCT follows
// ---------------------------------------------------------------------------------------------

#[test]
fn sos_after_inotuzumab_is_more_frequent_when_hct_follows() {
    // Inotuzumab alone: SOS 3% per course. Followed by HCT: the transplant adds SOS with
    // probability 0.15 (under 55) or 0.30 (55 and over) for about 70% x 75% of patients.
    let m = model(
        false,
        &[
            ("age", r#"{ dist = "uniform", min = 20.0, max = 65.0 }"#),
            ("prior_hct", "0.2"),
        ],
        &[
            therapy(
                "ino",
                INO,
                &[
                    (
                        "toxicities",
                        r#"[{ kind = "sos", any_grade = 0.03, grade3plus = 0.03, fatal = 0.005, onset_days = 14, duration_days = 21 }]"#,
                    ),
                    (
                        "hct_sos",
                        r#"{ probability = { age_cut = 55, below = 0.15, at_or_above = 0.30 }, cycles_above = 2, cycles_odds_ratio = 3.0, prior_hct_odds_ratio = 3.0, fatal = 0.2, onset_days = 14, duration_days = 28 }"#,
                    ),
                ],
            ),
            therapy("hct", HCT, &[("max_transplants", "2")]),
        ],
        &[
            strategy(
                "ino_then_hct",
                &[r#"{ therapies = ["ino"] }"#],
                Some(r#"{ therapy = "hct", after = ["ino"], max_cycles_before = { ino = 2 } }"#),
            ),
            strategy("ino_alone", &[r#"{ therapies = ["ino"] }"#], None),
        ],
    );
    let n = 5_000u64;
    let with_hct = trajectories(&m, 0, n, 8);
    let alone = trajectories(&m, 1, n, 8);
    let sos_events = |tr: &Trajectory| {
        tr.log
            .iter()
            .filter(|r| {
                matches!(
                    r.item,
                    Item::Event(Event::Toxicity {
                        kind: ToxKind::Sos,
                        ..
                    })
                )
            })
            .count()
    };
    let (mut a, mut b, mut sum_d2, mut transplanted) = (0i64, 0i64, 0i64, 0);
    for (x, y) in with_hct.iter().zip(&alone) {
        // The same patients under both strategies (common random numbers).
        assert_eq!(x.attrs, y.attrs);
        // Outcome.sos agrees with the SOS episodes in the trajectory.
        assert_eq!(x.out.sos, sos_events(x) > 0);
        assert_eq!(y.out.sos, sos_events(y) > 0);
        assert_eq!(y.out.transplants, 0);
        transplanted += u64::from(x.out.transplants > 0);
        let d = i64::from(x.out.sos) - i64::from(y.out.sos);
        a += i64::from(x.out.sos);
        b += i64::from(y.out.sos);
        sum_d2 += d * d;
    }
    assert!(
        transplanted >= 1_500,
        "transplanted after inotuzumab: {transplanted}"
    );
    // Paired comparison: d_i = sos_i(with HCT) - sos_i(alone); SE of the mean difference is
    // sd(d) / sqrt(n). The rule holds if the difference exceeds 3 SE (a one-sided test at
    // about 0.1%); an engine that ignored `hct_sos` would give a difference near 0.
    let nf = n as f64;
    let diff = (a - b) as f64 / nf;
    let var = (sum_d2 as f64 / nf - diff * diff) * nf / (nf - 1.0);
    let se = (var / nf).sqrt();
    assert!(
        diff > 3.0 * se,
        "SOS with HCT {} vs alone {}: difference {diff} <= 3 SE ({se})",
        a as f64 / nf,
        b as f64 / nf
    );
    // And the SOS rate alone is the per-course 3% within 3 binomial SE (every patient gets
    // one course; background deaths before the onset on day 14 are negligible).
    let p_alone = b as f64 / nf;
    assert!(
        (p_alone - 0.03).abs() < 3.0 * binomial_se(0.03, n),
        "SOS on inotuzumab alone {p_alone} vs 0.03"
    );
}

// ---------------------------------------------------------------------------------------------
// Rule 8: face validity, blinatumomab response falls with burden
// ---------------------------------------------------------------------------------------------

#[test]
fn blinatumomab_response_falls_with_burden() {
    let table = [0.85, 0.70, 0.50, 0.30];
    let classes = ["mrd_only", "blasts_lt5", "blasts_5_49", "blasts_ge50"];
    let response = format!(
        "{{ mrd_only = {}, blasts_lt5 = {}, blasts_5_49 = {}, blasts_ge50 = {} }}",
        table[0], table[1], table[2], table[3]
    );
    let n = 4_000u64;
    let mut rates = Vec::new();
    for (k, class) in classes.iter().enumerate() {
        // Everyone at this burden class at the start.
        let split = classes
            .iter()
            .map(|c| format!("{c} = {}", if c == class { "1.0" } else { "0.0" }))
            .collect::<Vec<_>>()
            .join(", ");
        let m = model(
            false,
            &[
                ("burden", &format!("{{ {split} }}")),
                ("cns", "0.0"),
                ("extramedullary", "0.0"),
            ],
            &[therapy("blin", BLIN, &[("response", &response)])],
            &[strategy("blin", &[r#"{ therapies = ["blin"] }"#], None)],
        );
        let trs = trajectories(&m, 0, n, 9);
        assert!(trs.iter().all(|t| t.attrs.burden == Burden::ALL[k]));
        let responders = trs.iter().filter(|t| t.out.first_response).count();
        let p = responders as f64 / n as f64;
        // Each rate is the table's within 3 binomial SE.
        assert!(
            (p - table[k]).abs() < 3.0 * binomial_se(table[k], n),
            "{class}: response {p} vs {}",
            table[k]
        );
        rates.push(p);
    }
    // Monotone decrease, each step beyond 3 SE of the difference of two independent binomial
    // proportions, sqrt(p1 q1 / n + p2 q2 / n). The cohorts share random numbers, which
    // correlates them positively and makes this SE conservative. Would fail if the engine read
    // the response at a fixed burden (all rates equal) or at the wrong class.
    for k in 0..3 {
        let (p1, p2) = (rates[k], rates[k + 1]);
        let se = (binomial_se(p1, n).powi(2) + binomial_se(p2, n).powi(2)).sqrt();
        assert!(
            p1 - p2 > 3.0 * se,
            "{} {p1} vs {} {p2}: difference within 3 SE ({se})",
            classes[k],
            classes[k + 1]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Rule 9: CAR-T first gives more CD19-negative relapses than blinatumomab first
// ---------------------------------------------------------------------------------------------

#[test]
fn car_t_first_has_more_cd19_negative_relapses_than_blinatumomab_first() {
    // P(CD19-negative | relapse after response): CAR-T 0.35, blinatumomab 0.10; the same 5%
    // at failure for both.
    let m = model(
        false,
        &[],
        &[
            therapy("blin", BLIN, &[("escape", &escape(0.10, 0.05, 0.0, 0.0))]),
            therapy("cart", CAR_T, &[("escape", &escape(0.35, 0.05, 0.0, 0.0))]),
        ],
        &[
            strategy(
                "car_t_first",
                &[r#"{ therapies = ["cart"] }"#, r#"{ therapies = ["blin"] }"#],
                None,
            ),
            strategy(
                "blin_first",
                &[r#"{ therapies = ["blin"] }"#, r#"{ therapies = ["cart"] }"#],
                None,
            ),
        ],
    );
    let opts = RunOptions {
        patients: 10_000,
        seed: 10,
        threads: 2,
        chunk_size: 1024,
        progress: None,
    };
    let agg = run(&m, &opts).unwrap();
    let (car_t, blin) = (&agg.strategies[0], &agg.strategies[1]);
    assert!(
        car_t.relapsed >= 3_000,
        "relapses, CAR-T first: {}",
        car_t.relapsed
    );
    assert!(
        blin.relapsed >= 3_000,
        "relapses, blinatumomab first: {}",
        blin.relapsed
    );
    let p1 = car_t.cd19_negative_relapses as f64 / car_t.relapsed as f64;
    let p2 = blin.cd19_negative_relapses as f64 / blin.relapsed as f64;
    // SE of a difference of two binomial proportions among the relapsed; would fail if the
    // escape at relapse did not depend on the therapy that induced the remission.
    let se =
        (binomial_se(p1, car_t.relapsed).powi(2) + binomial_se(p2, blin.relapsed).powi(2)).sqrt();
    assert!(
        p1 - p2 > 3.0 * se,
        "CD19-negative share of first relapses: CAR-T first {p1}, blinatumomab first {p2} (SE {se})"
    );
}

// ---------------------------------------------------------------------------------------------
// Rule 10: conditional lines are skipped when their condition fails, and validation rejects a
// line that can never be given
// ---------------------------------------------------------------------------------------------

#[test]
fn a_line_whose_condition_fails_is_skipped_and_one_that_holds_is_given() {
    // Line 0: chemotherapy for CNS disease only. Line 1: blinatumomab unless chemotherapy was
    // given. Line 2: inotuzumab for CNS disease at under 5% blasts (CNS and burden redrawn at
    // each relapse). Every candidate is eligible whenever its line holds (no antigen loss, no
    // age limit, one course each in one line each).
    let m = model(
        false,
        &[("cns", "0.4"), ("relapse_cns", "0.5")],
        &[
            therapy("chemo", CHEMO, &[]),
            therapy("blin", BLIN, &[]),
            therapy("ino", INO, &[]),
        ],
        &[strategy(
            "conditional",
            &[
                r#"{ therapies = ["chemo"], when = { cns = true } }"#,
                r#"{ therapies = ["blin"], when = { not_received = ["chemo"] } }"#,
                r#"{ therapies = ["ino"], when = { cns = true, max_burden = "blasts_lt5" } }"#,
            ],
            None,
        )],
    );
    let line_of = [id(&m, "chemo"), id(&m, "blin"), id(&m, "ino")];
    let chemo = line_of[0];
    let holds = |index: usize, s: &Attributes, received: &[TherapyId]| match index {
        0 => s.cns,
        1 => !received.contains(&chemo),
        2 => s.cns && s.burden <= Burden::Under5,
        _ => unreachable!(),
    };
    let mut skipped = [0; 3];
    let mut given = [0; 3];
    for tr in trajectories(&m, 0, 6_000, 11) {
        let mut received = Vec::new();
        let mut considered = Vec::new();
        for r in &tr.log {
            match r.item {
                // A skipped line's condition must fail on the state at that moment (would
                // fail if the engine skipped lines that hold, or read a stale state).
                Item::Note(Note::LineSkipped { index }) => {
                    assert!(
                        !holds(index, &r.state, &received),
                        "line {index} skipped although its condition holds"
                    );
                    skipped[index] += 1;
                    considered.push(index);
                }
                // A line given must hold (would fail if `when` were ignored).
                Item::Note(Note::Started { therapy, .. }) => {
                    let index = line_of.iter().position(|&t| t == therapy).unwrap();
                    assert!(
                        holds(index, &r.state, &received),
                        "line {index} given although its condition fails"
                    );
                    given[index] += 1;
                    received.push(therapy);
                    considered.push(index);
                }
                _ => {}
            }
        }
        // Lines are considered in order, each once: a skipped line is not revisited.
        assert_eq!(considered, (0..considered.len()).collect::<Vec<_>>());
    }
    for index in 0..3 {
        assert!(
            skipped[index] >= 300,
            "line {index} skipped {} times",
            skipped[index]
        );
        assert!(
            given[index] >= 300,
            "line {index} given {} times",
            given[index]
        );
    }
}

#[test]
fn validation_rejects_a_line_that_can_never_be_given() {
    let therapies = [
        therapy("blin", BLIN, &[]),
        therapy("ino", INO, &[]),
        therapy("chemo", CHEMO, &[]),
    ];
    let ok = r#"{ therapies = ["chemo"] }"#;
    let reject = |strategies: &[String], path: &str| {
        let e = try_model(false, &[], &therapies, strategies)
            .expect_err("a line that can never be given is rejected");
        assert_eq!(e.path, path, "{e}");
        assert!(e.message.contains("never"), "{e}");
    };
    // The line's own condition excludes its only (CD19-directed) candidate.
    reject(
        &[strategy(
            "s",
            &[r#"{ therapies = ["blin"], when = { cd19 = "negative" } }"#],
            None,
        )],
        "strategies[0].lines[0]",
    );
    // The same through the candidate's condition.
    reject(
        &[strategy(
            "s",
            &[r#"{ therapies = [{ therapy = "blin", when = { cd19 = "negative" } }] }"#],
            None,
        )],
        "strategies[0].lines[0]",
    );
    // CD22: inotuzumab for CD22-negative disease; the path names the right strategy and line.
    reject(
        &[
            strategy("a", &[ok], None),
            strategy(
                "b",
                &[
                    ok,
                    r#"{ therapies = ["ino"], when = { cd22 = "negative" } }"#,
                ],
                None,
            ),
        ],
        "strategies[1].lines[1]",
    );
    // A `received` therapy that no earlier line gives; the message names it (it gave an index).
    let e = try_model(
        false,
        &[],
        &therapies,
        &[strategy(
            "s",
            &[
                ok,
                r#"{ therapies = ["blin"], when = { received = ["ino"] } }"#,
            ],
            None,
        )],
    )
    .expect_err("a line requiring a therapy never given before is rejected");
    assert_eq!(e.path, "strategies[0].lines[1]", "{e}");
    assert!(
        e.message.contains("requires `ino` received"),
        "the therapy is named: {e}"
    );
    // Controls: the same conditions are accepted where some candidate can be given.
    for lines in [
        [r#"{ therapies = ["blin", "chemo"], when = { cd19 = "negative" } }"#],
        [r#"{ therapies = ["blin"], when = { cd19 = "positive" } }"#],
        [r#"{ therapies = ["ino"], when = { cd22 = "positive" } }"#],
    ] {
        try_model(false, &[], &therapies, &[strategy("s", &lines, None)])
            .unwrap_or_else(|e| panic!("{lines:?} rejected: {e}"));
    }
    let after_ino = [
        r#"{ therapies = ["ino"] }"#,
        r#"{ therapies = ["blin"], when = { received = ["ino"] } }"#,
    ];
    try_model(false, &[], &therapies, &[strategy("s", &after_ino, None)])
        .unwrap_or_else(|e| panic!("{after_ino:?} rejected: {e}"));
}

// ---------------------------------------------------------------------------------------------
// Rates by salvage line
// ---------------------------------------------------------------------------------------------

/// A response by salvage line `{ first, second, third_plus }` must use the patient's current
/// salvage line: a first-salvage patient's first therapy gets `first`, a second-salvage
/// patient's `second`. Would fail if the line were counted one too high (adding to the salvage
/// line at time 0 the number of lines started including the current one, as the engine did
/// when this test was written).
#[test]
fn response_by_salvage_line_uses_the_current_salvage_line() {
    let table = [0.9, 0.5, 0.1];
    let n = 4_000u64;
    for (k, split) in [
        "{ first = 1.0, second = 0.0, third_plus = 0.0 }",
        "{ first = 0.0, second = 1.0, third_plus = 0.0 }",
    ]
    .iter()
    .enumerate()
    {
        let m = model(
            false,
            &[
                ("salvage_line", split),
                ("cns", "0.0"),
                ("extramedullary", "0.0"),
            ],
            &[therapy(
                "chemo",
                CHEMO,
                &[(
                    "response",
                    "{ first = 0.9, second = 0.5, third_plus = 0.1 }",
                )],
            )],
            &[strategy("chemo", &[r#"{ therapies = ["chemo"] }"#], None)],
        );
        let trs = trajectories(&m, 0, n, 12);
        assert!(
            trs.iter()
                .all(|t| usize::from(t.attrs.salvage_line) == k + 1)
        );
        let p = trs.iter().filter(|t| t.out.first_response).count() as f64 / n as f64;
        assert!(
            (p - table[k]).abs() < 3.0 * binomial_se(table[k], n),
            "salvage line {}: first-line response {p}, expected {} (the rate for salvage line {})",
            k + 1,
            table[k],
            k + 1
        );
    }
}

/// Conditions name burden classes as the population and rate tables do (`mrd_only`,
/// `blasts_lt5`, `blasts_5_49`, `blasts_ge50`, the labels of [`Burden::label`]). Would fail if
/// a condition spelt a class differently from the tables (a scenario author writing
/// `max_burden = "blasts_5_49"` would be told the variant is unknown).
#[test]
fn conditions_name_burden_classes_as_the_rate_tables_do() {
    let therapies = [therapy("chemo", CHEMO, &[])];
    for burden in Burden::ALL {
        let label = burden.label();
        for field in ["min_burden", "max_burden"] {
            let line = format!(r#"{{ therapies = ["chemo"], when = {{ {field} = "{label}" }} }}"#);
            let m = try_model(false, &[], &therapies, &[strategy("s", &[&line], None)])
                .unwrap_or_else(|e| panic!("`{field} = \"{label}\"` rejected: {e}"));
            let when = &m.strategies[0].lines[0].when;
            let got = if field == "min_burden" {
                when.min_burden
            } else {
                when.max_burden
            };
            assert_eq!(got, Some(burden), "{field} = \"{label}\"");
        }
    }
}

/// Every part of a condition is checked against the patient's state when the line comes up:
/// for each part alone, a first line gated by it is given exactly to the patients for whom the
/// part holds and skipped for the others (chemotherapy, so nothing but the condition decides).
/// Would fail if a part were ignored, inverted, or compared the wrong way: each part holds for
/// some patients and fails for others, and both are required below.
#[test]
fn each_condition_part_gates_a_line_exactly() {
    type Holds = fn(&Attributes) -> bool;
    let parts: [(&str, Holds); 12] = [
        (r#"cd19 = "positive""#, |s| !s.cd19_negative),
        (r#"cd19 = "negative""#, |s| s.cd19_negative),
        (r#"cd22 = "positive""#, |s| s.cd22 != Cd22::Negative),
        (r#"cd22 = "negative""#, |s| s.cd22 == Cd22::Negative),
        ("min_age = 40.0", |s| s.age >= 40.0),
        ("max_age = 40.0", |s| s.age <= 40.0),
        ("cns = true", |s| s.cns),
        ("cns = false", |s| !s.cns),
        ("prior_hct = true", |s| s.prior_hct),
        ("prior_hct = false", |s| !s.prior_hct),
        (r#"min_burden = "blasts_5_49""#, |s| {
            s.burden >= Burden::From5To49
        }),
        (r#"max_burden = "blasts_lt5""#, |s| {
            s.burden <= Burden::Under5
        }),
    ];
    for (part, holds) in parts {
        let m = model(
            false,
            &[
                ("cd19_negative", "0.5"),
                ("cd22", "{ high = 0.3, partial = 0.3, negative = 0.4 }"),
                ("cns", "0.5"),
                ("prior_hct", "0.5"),
            ],
            &[therapy("chemo", CHEMO, &[])],
            &[strategy(
                "gated",
                &[&format!(
                    r#"{{ therapies = ["chemo"], when = {{ {part} }} }}"#
                )],
                None,
            )],
        );
        let (mut given, mut skipped) = (0, 0);
        for tr in trajectories(&m, 0, 400, 13) {
            let first = tr
                .log
                .iter()
                .find_map(|r| match r.item {
                    Item::Note(Note::Started { .. }) => Some(true),
                    Item::Note(Note::LineSkipped { index: 0 }) => Some(false),
                    _ => None,
                })
                .expect("the line is given or skipped");
            assert_eq!(
                first,
                holds(&tr.attrs),
                "`{part}`: line given = {first} for {:?}",
                tr.attrs
            );
            if first {
                given += 1;
            } else {
                skipped += 1;
            }
        }
        assert!(
            given >= 50 && skipped >= 50,
            "`{part}`: given {given}, skipped {skipped}"
        );
    }
}

/// A consolidation rule on MRD status sees the remission being consolidated: with the rule's
/// `when = { mrd = "positive" }`, exactly the MRD-positive remissions get a transplant planned;
/// with a per-therapy `when = { mrd = "negative" }`, exactly the MRD-negative ones. Everyone is
/// eligible (donor, fit, under the age limit, no prior HCT). Would fail if the MRD status were
/// read inverted, or if either of the two conditions were ignored.
#[test]
fn a_consolidation_rule_on_mrd_status_plans_exactly_the_matching_remissions() {
    for (consolidation, want_negative) in [
        (
            r#"{ therapy = "hct", after = ["chemo"], when = { mrd = "positive" } }"#,
            false,
        ),
        (
            r#"{ therapy = "hct", after = [{ therapy = "chemo", when = { mrd = "negative" } }] }"#,
            true,
        ),
    ] {
        let m = model(
            false,
            &[],
            &[
                therapy("chemo", CHEMO, &[("response", "1.0")]),
                therapy("hct", HCT, &[]),
            ],
            &[strategy(
                "mrd",
                &[r#"{ therapies = ["chemo"] }"#],
                Some(consolidation),
            )],
        );
        let (mut planned, mut refused) = (0, 0);
        for tr in trajectories(&m, 0, 400, 14) {
            let mut mrd_negative = None;
            for r in &tr.log {
                match r.item {
                    Item::Note(Note::Response {
                        mrd_negative: n, ..
                    }) => mrd_negative = Some(n),
                    Item::Note(Note::TransplantPlanned { .. }) => {
                        let n = mrd_negative.take().expect("a plan follows a response");
                        assert_eq!(
                            n, want_negative,
                            "{consolidation}: planned, MRD-negative {n}"
                        );
                        planned += 1;
                    }
                    Item::Note(Note::NoTransplant(why)) => {
                        let n = mrd_negative.take().expect("a refusal follows a response");
                        assert_eq!(why, NoTransplant::Rule);
                        assert_ne!(
                            n, want_negative,
                            "{consolidation}: refused, MRD-negative {n}"
                        );
                        refused += 1;
                    }
                    _ => {}
                }
            }
        }
        assert!(
            planned >= 100 && refused >= 100,
            "{consolidation}: planned {planned}, refused {refused}"
        );
    }
}

/// The outcome's toxicity flags follow the grades drawn: grade >= 3 CRS and neurotoxicity set
/// their flags and low grades do not, any SOS sets its flag, and the first-line flags count
/// only episodes of the first therapy given. Grades are certain here (probabilities 0 or 1):
/// strategy 0 gives severe CRS, low ICANS and low SOS as its first line, strategy 1 low CRS and
/// severe ICANS; strategy 2 fails a first chemotherapy and gives severe CRS, severe ICANS and
/// SOS as its second line. Would fail if a low grade counted as severe, if a flag were never
/// set, or if a later line's episode counted as the first line's.
#[test]
fn toxicity_flags_follow_grade_and_line() {
    let tox = |kind: &str, grade3plus: f64| {
        format!(
            r#"{{ kind = "{kind}", any_grade = 1.0, grade3plus = {grade3plus}, fatal = 0.0, onset_days = 1, duration_days = 2 }}"#
        )
    };
    let list = |crs: f64, icans: f64, sos: bool| {
        let mut l = vec![tox("crs", crs), tox("icans", icans)];
        if sos {
            l.push(tox("sos", 0.0));
        }
        format!("[{}]", l.join(", "))
    };
    let (crs_first, icans_first, later) = (
        list(1.0, 0.0, true),
        list(0.0, 1.0, false),
        list(1.0, 1.0, true),
    );
    let m = model(
        false,
        &[],
        &[
            therapy("crs_first", CHEMO, &[("toxicities", &crs_first)]),
            therapy("icans_first", CHEMO, &[("toxicities", &icans_first)]),
            therapy("fails", CHEMO, &[("response", "0.0")]),
            therapy("later", CHEMO, &[("toxicities", &later)]),
        ],
        &[
            strategy("crs_first", &[r#"{ therapies = ["crs_first"] }"#], None),
            strategy("icans_first", &[r#"{ therapies = ["icans_first"] }"#], None),
            strategy(
                "later",
                &[
                    r#"{ therapies = ["fails"] }"#,
                    r#"{ therapies = ["later"] }"#,
                ],
                None,
            ),
        ],
    );
    // (episodes, then the flags crs, icans, sos, first-line crs, first-line icans, first-line
    // sos) for each strategy.
    let expected = [
        (3, (true, false, true, true, false, true)),
        (2, (false, true, false, false, true, false)),
        (3, (true, true, true, false, false, false)),
    ];
    for (s, (episodes, want)) in expected.into_iter().enumerate() {
        let mut seen = 0;
        for tr in trajectories(&m, s, 300, 15) {
            let seen_episodes = tr
                .log
                .iter()
                .filter(|r| matches!(r.item, Item::Event(Event::Toxicity { .. })))
                .count();
            if seen_episodes < episodes {
                continue; // died before the onset
            }
            let o = &tr.out;
            let got = (
                o.crs_grade3plus,
                o.icans_grade3plus,
                o.sos,
                o.first_line_crs_grade3plus,
                o.first_line_icans_grade3plus,
                o.first_line_sos,
            );
            assert_eq!(got, want, "strategy {s}: flags of {o:?}");
            seen += 1;
        }
        assert!(
            seen >= 290,
            "strategy {s}: {seen} patients lived to the onset"
        );
    }
}

/// The salvage line of a later line counts the lines given before it: a first-salvage
/// patient's second line uses the rate for salvage line 2. Response is certain at line 2 and
/// impossible at lines 1 and 3+, so every patient responds to the second line and only then.
/// Would fail if the lines before were subtracted instead of added (line 2 read as line 1).
#[test]
fn a_second_line_uses_the_rate_for_the_next_salvage_line() {
    let m = model(
        false,
        &[(
            "salvage_line",
            "{ first = 1.0, second = 0.0, third_plus = 0.0 }",
        )],
        &[
            therapy("fails", CHEMO, &[("response", "0.0")]),
            therapy(
                "by_line",
                CHEMO,
                &[(
                    "response",
                    "{ first = 0.0, second = 1.0, third_plus = 0.0 }",
                )],
            ),
        ],
        &[strategy(
            "two_lines",
            &[
                r#"{ therapies = ["fails"] }"#,
                r#"{ therapies = ["by_line"] }"#,
            ],
            None,
        )],
    );
    let by_line = id(&m, "by_line");
    let mut responses = 0;
    for tr in trajectories(&m, 0, 300, 16) {
        let started = tr.log.iter().any(
            |r| matches!(r.item, Item::Note(Note::Started { therapy, line: 2 }) if therapy == by_line),
        );
        let responded = tr.log.iter().any(
            |r| matches!(r.item, Item::Note(Note::Response { therapy, .. }) if therapy == by_line),
        );
        if started && tr.out.end.get() > 28.0 * 2.0 {
            assert!(responded, "no response at salvage line 2: {:?}", tr.out);
            responses += 1;
        }
    }
    assert!(responses >= 290, "second-line responses: {responses}");
}

/// Events at the same instant and phase are handled in the order they were scheduled, a start
/// of line included (it takes its place when asked for, see `EventQueue::reserve`). A first
/// line fails at its cycle end on day 28, where an episode of toxicity scheduled at the start
/// of the course is also due: the episode (scheduled on day 0) comes before the start of the
/// next line (asked for on day 28). Would fail if the start of line were handled at once
/// whenever something else was due first.
#[test]
fn a_start_of_line_waits_for_events_scheduled_before_it_at_the_same_instant() {
    let tox = r#"[{ kind = "infection", any_grade = 1.0, grade3plus = 0.0, fatal = 0.0, onset_days = 28, duration_days = 2 }]"#;
    let m = model(
        false,
        &[],
        &[
            therapy("fails", CHEMO, &[("response", "0.0"), ("toxicities", tox)]),
            therapy("next", CHEMO, &[]),
        ],
        &[strategy(
            "two_lines",
            &[
                r#"{ therapies = ["fails"] }"#,
                r#"{ therapies = ["next"] }"#,
            ],
            None,
        )],
    );
    let mut checked = 0;
    for tr in trajectories(&m, 0, 200, 17) {
        let day28: Vec<Item> = tr
            .log
            .iter()
            .filter(|r| r.t.get() == 28.0 && matches!(r.item, Item::Event(_)))
            .map(|r| r.item)
            .collect();
        if day28.is_empty() {
            continue; // died before day 28
        }
        assert!(
            matches!(
                day28[..],
                [
                    Item::Event(Event::CycleEnd { cycle: 1 }),
                    Item::Event(Event::Toxicity { .. }),
                    Item::Event(Event::StartLine),
                ]
            ),
            "events on day 28: {day28:?}"
        );
        checked += 1;
    }
    assert!(checked >= 190, "patients alive on day 28: {checked}");
}

/// A therapy's age window and label age are inclusive and checked at the decision: with a
/// window of 18-30 years and a label age of 24, patients of exactly 18 and 24 get CAR-T, one of
/// exactly 30 is past the label and gets chemotherapy (same 18-30 window), and patients of 17
/// and 31 are outside both windows and get the third candidate, which has no age limit. Ages
/// are fixed, so the limits are met exactly. Would fail if a limit were exclusive, or a
/// comparison reversed.
#[test]
fn age_windows_and_the_label_age_are_inclusive() {
    let window = [("min_age", "18.0"), ("max_age", "30.0")];
    let car_t = [window[0], window[1], ("label_max_age", "24.0")];
    // (age, the therapy started, the reasons the candidates before it were passed over).
    let cases = [
        (17.0, "any_age", vec![Ineligible::Age, Ineligible::Age]),
        (18.0, "cart", vec![]),
        (24.0, "cart", vec![]),
        (30.0, "chemo", vec![Ineligible::LabelAge]),
        (31.0, "any_age", vec![Ineligible::Age, Ineligible::Age]),
    ];
    for (age, started, reasons) in cases {
        let m = model(
            false,
            &[("age", &format!(r#"{{ dist = "fixed", value = {age} }}"#))],
            &[
                therapy("cart", CAR_T, &car_t),
                therapy("chemo", CHEMO, &window),
                therapy("any_age", CHEMO, &[]),
            ],
            &[strategy(
                "ages",
                &[r#"{ therapies = ["cart", "chemo", "any_age"] }"#],
                None,
            )],
        );
        for tr in trajectories(&m, 0, 3, 18) {
            let at_start: Vec<Note> = tr
                .log
                .iter()
                .filter(|r| r.t == Days::ZERO)
                .filter_map(|r| match r.item {
                    Item::Note(n) => Some(n),
                    Item::Event(_) => None,
                })
                .collect();
            let got: Vec<Ineligible> = at_start
                .iter()
                .filter_map(|n| match n {
                    Note::Skipped { reason, .. } => Some(*reason),
                    _ => None,
                })
                .collect();
            assert_eq!(got, reasons, "age {age}: {at_start:?}");
            let given = at_start.iter().find_map(|n| match n {
                Note::Started { therapy, .. } => Some(m.therapies[*therapy].name.as_str()),
                _ => None,
            });
            assert_eq!(given, Some(started), "age {age}: {at_start:?}");
        }
    }
}

/// A second course of the same therapy uses its retreatment response, the first course its
/// response: chemotherapy that never works the first time and always works the second, given
/// in two lines, gives a response exactly at the second line. Would fail if the first course
/// were taken for a retreatment or the second not.
#[test]
fn a_second_course_uses_the_retreatment_response() {
    let m = model(
        false,
        &[],
        &[therapy(
            "chemo",
            CHEMO,
            &[
                ("max_courses", "2"),
                ("response", "0.0"),
                ("retreatment_response", "1.0"),
            ],
        )],
        &[strategy(
            "twice",
            &[
                r#"{ therapies = ["chemo"] }"#,
                r#"{ therapies = ["chemo"] }"#,
            ],
            None,
        )],
    );
    let mut second_courses = 0;
    for tr in trajectories(&m, 0, 300, 19) {
        let mut line = 0;
        for r in &tr.log {
            match r.item {
                Item::Note(Note::Started { line: l, .. }) => line = l,
                Item::Note(Note::Response { .. }) => assert_eq!(line, 2, "response at line {line}"),
                Item::Note(Note::NoResponse { .. }) => {
                    assert_eq!(line, 1, "no response at line {line}")
                }
                _ => {}
            }
        }
        if line == 2 && tr.out.end.get() > 56.0 {
            assert!(
                tr.log
                    .iter()
                    .any(|r| matches!(r.item, Item::Note(Note::Response { .. })))
            );
            second_courses += 1;
        }
    }
    assert!(
        second_courses >= 290,
        "second courses seen through: {second_courses}"
    );
}

/// Consolidation cycles: a responder gets all of them without a transplant, and only as many
/// as a cap on cycles before HCT allows with one. Inotuzumab-like course, response certain
/// after cycle 1, 4 consolidation cycles (5 in all), relapse beyond the horizon; HCT 200 days
/// after the response, after the last cycle. Would fail if consolidation cycles were not
/// counted down (they would go on to the transplant or the horizon), if the cap were ignored
/// or misapplied, or if a cap that does not cut (exactly met, or above) were reported.
#[test]
fn consolidation_cycles_are_all_given_or_capped_before_a_transplant() {
    let fixed = |days: f64| format!(r#"{{ dist = "fixed", value = {days}, unit = "days" }}"#);
    let never = fixed(3_650.0);
    let wait = fixed(200.0);
    let rule = |cap: u32| {
        format!(r#"{{ therapy = "hct", after = ["ino"], max_cycles_before = {{ ino = {cap} }} }}"#)
    };
    let m = model(
        false,
        &[],
        &[
            therapy(
                "ino",
                INO,
                &[
                    ("response", "1.0"),
                    ("responders_by_cycle_1", "1.0"),
                    ("consolidation_cycles", "4"),
                    ("relapse", &never),
                ],
            ),
            therapy(
                "hct",
                HCT,
                &[
                    ("time_to_transplant", &wait),
                    ("trm", "0.0"),
                    ("trm_second", "0.0"),
                ],
            ),
        ],
        &[
            strategy("no_hct", &[r#"{ therapies = ["ino"] }"#], None),
            strategy("cap_3", &[r#"{ therapies = ["ino"] }"#], Some(&rule(3))),
            strategy("cap_5", &[r#"{ therapies = ["ino"] }"#], Some(&rule(5))),
            strategy("cap_6", &[r#"{ therapies = ["ino"] }"#], Some(&rule(6))),
        ],
    );
    // (cycles ended, the cap note, transplanted) for each strategy: a cap of 5 allows exactly
    // the 4 consolidation cycles left, so nothing is cut and nothing reported.
    let expected = [
        (5, None, false),
        (3, Some(2), true),
        (5, None, true),
        (5, None, true),
    ];
    for (s, want) in expected.into_iter().enumerate() {
        let mut seen = 0;
        for tr in trajectories(&m, s, 100, 20) {
            if tr.out.end.get() <= 228.0 {
                continue; // died before the transplant date
            }
            let cycles = tr
                .log
                .iter()
                .filter(|r| matches!(r.item, Item::Event(Event::CycleEnd { .. })))
                .count();
            let capped = tr.log.iter().find_map(|r| match r.item {
                Item::Note(Note::CyclesCapped { left }) => Some(left),
                _ => None,
            });
            assert_eq!(
                (cycles, capped, tr.out.transplants == 1),
                want,
                "strategy {s}: cycles, cap note, transplanted"
            );
            seen += 1;
        }
        assert!(
            seen >= 95,
            "strategy {s}: {seen} patients alive at the transplant date"
        );
    }
}

/// Antigen escape at a failure follows its probability, on CD19-positive disease: after a
/// CD19-directed first line that always fails, the next line starts on CD19-negative disease
/// when the escape at failure is certain, and on CD19-positive disease when it is impossible.
/// Would fail if the draw were ignored (escape always or never) or the current status misread.
#[test]
fn antigen_escape_at_failure_follows_its_probability() {
    for (p, negative) in [(1.0, true), (0.0, false)] {
        let m = model(
            false,
            &[],
            &[
                therapy(
                    "blin",
                    BLIN,
                    &[("response", "0.0"), ("escape", &escape(0.0, p, 0.0, 0.0))],
                ),
                therapy("chemo", CHEMO, &[]),
            ],
            &[strategy(
                "escape",
                &[
                    r#"{ therapies = ["blin"] }"#,
                    r#"{ therapies = ["chemo"] }"#,
                ],
                None,
            )],
        );
        let mut seen = 0;
        for tr in trajectories(&m, 0, 200, 21) {
            let escaped = tr
                .log
                .iter()
                .any(|r| r.item == Item::Note(Note::Escaped(Escape::Cd19)));
            let second = tr
                .log
                .iter()
                .find(|r| matches!(r.item, Item::Note(Note::Started { line: 2, .. })));
            if let Some(r) = second {
                assert_eq!(r.state.cd19_negative, negative, "escape probability {p}");
                assert_eq!(escaped, negative, "escape probability {p}");
                seen += 1;
            }
        }
        assert!(seen >= 190, "escape probability {p}: {seen} second lines");
    }
}

/// Failure of the first line is an event-free-survival event at day 0 (the ELIANA and TOWER
/// convention), whatever happens later: a first line that never works, then chemotherapy.
/// Would fail if the first line's failure were not counted, and EFS ran on to a later event.
#[test]
fn first_line_failure_is_an_efs_event_at_day_0() {
    let m = model(
        false,
        &[],
        &[
            therapy("fails", CHEMO, &[("response", "0.0")]),
            therapy("chemo", CHEMO, &[]),
        ],
        &[strategy(
            "fails_first",
            &[
                r#"{ therapies = ["fails"] }"#,
                r#"{ therapies = ["chemo"] }"#,
            ],
            None,
        )],
    );
    let mut failed = 0;
    for tr in trajectories(&m, 0, 200, 22) {
        if tr.out.lines >= 2 {
            assert!(tr.out.efs_event && tr.out.efs == Days::ZERO, "{:?}", tr.out);
            failed += 1;
        }
    }
    assert!(failed >= 190, "first-line failures: {failed}");
}

/// SOS at a transplant counts for the first line when the transplant consolidates the first
/// line's remission, and not when it consolidates a later line's. An inotuzumab-like course
/// that always works, with certain non-fatal SOS at a transplant 30 days after the response,
/// given first (strategy 0) or after a first line that always fails (strategy 1). Would fail if
/// the remission forgot which line induced it.
#[test]
fn sos_at_transplant_counts_for_the_line_whose_remission_it_consolidates() {
    let fixed = |days: f64| format!(r#"{{ dist = "fixed", value = {days}, unit = "days" }}"#);
    let never = fixed(3_650.0);
    let wait = fixed(30.0);
    let sos = "{ probability = 1.0, cycles_above = 10, cycles_odds_ratio = 1.0, \
               prior_hct_odds_ratio = 1.0, fatal = 0.0, onset_days = 14, duration_days = 28 }";
    let m = model(
        false,
        &[],
        &[
            therapy(
                "ino",
                INO,
                &[
                    ("response", "1.0"),
                    ("responders_by_cycle_1", "1.0"),
                    ("consolidation_cycles", "0"),
                    ("relapse", &never),
                    ("hct_sos", sos),
                ],
            ),
            therapy("fails", CHEMO, &[("response", "0.0")]),
            therapy(
                "hct",
                HCT,
                &[
                    ("time_to_transplant", &wait),
                    ("trm", "0.0"),
                    ("trm_second", "0.0"),
                    ("trm_after_sos", "0.0"),
                ],
            ),
        ],
        &[
            strategy(
                "ino_first",
                &[r#"{ therapies = ["ino"] }"#],
                Some(r#"{ therapy = "hct", after = ["ino"] }"#),
            ),
            strategy(
                "ino_second",
                &[r#"{ therapies = ["fails"] }"#, r#"{ therapies = ["ino"] }"#],
                Some(r#"{ therapy = "hct", after = ["ino"] }"#),
            ),
        ],
    );
    for (s, first_line) in [(0, true), (1, false)] {
        let mut seen = 0;
        for tr in trajectories(&m, s, 200, 23) {
            if tr.out.transplants == 0 || !tr.out.sos {
                continue; // died before the transplant or the onset
            }
            assert_eq!(
                tr.out.first_line_sos, first_line,
                "strategy {s}: {:?}",
                tr.out
            );
            seen += 1;
        }
        assert!(
            seen >= 190,
            "strategy {s}: {seen} SOS episodes at transplant"
        );
    }
}

/// Transplant risks that depend on the patient's history: a second transplant (after a prior
/// HCT) has its own transplant-related mortality, and SOS after inotuzumab is more likely after
/// more cycles than `cycles_above` and after a prior HCT. Made certain here: TRM 0 at a first
/// transplant and 1 at a second; SOS almost impossible at base (1e-9) and almost certain
/// (1 - 1e-6) under either odds ratio (1e15). Half the patients have a prior HCT; a course
/// gives 2 or 3 cycles (response after cycle 1, then 1 or 2 consolidation cycles) against
/// `cycles_above = 2`. Would fail if the second-transplant TRM or an odds ratio applied to the
/// wrong patients (a count compared the wrong way).
#[test]
fn transplant_risks_follow_prior_transplants_and_cycles() {
    let fixed = |days: f64| format!(r#"{{ dist = "fixed", value = {days}, unit = "days" }}"#);
    let never = fixed(3_650.0);
    let sos = "{ probability = 1e-9, cycles_above = 2, cycles_odds_ratio = 1e15, \
               prior_hct_odds_ratio = 1e15, fatal = 0.0, onset_days = 14, duration_days = 28 }";
    let ino = [
        ("response", "1.0"),
        ("responders_by_cycle_1", "1.0"),
        ("consolidation_cycles", "1"),
        ("relapse", never.as_str()),
        ("hct_sos", sos),
    ];
    let mut ino3 = ino;
    ino3[2].1 = "2";
    let (wait, trm_time) = (fixed(100.0), fixed(200.0));
    let m = model(
        false,
        &[("prior_hct", "0.5")],
        &[
            therapy("ino2", INO, &ino),
            therapy("ino3", INO, &ino3),
            therapy(
                "hct",
                HCT,
                &[
                    ("max_transplants", "2"),
                    ("time_to_transplant", &wait),
                    ("trm", "0.0"),
                    ("trm_second", "1.0"),
                    ("trm_after_sos", "0.0"),
                    ("trm_time", &trm_time),
                ],
            ),
        ],
        &[
            strategy(
                "two_cycles",
                &[r#"{ therapies = ["ino2"] }"#],
                Some(r#"{ therapy = "hct", after = ["ino2"] }"#),
            ),
            strategy(
                "three_cycles",
                &[r#"{ therapies = ["ino3"] }"#],
                Some(r#"{ therapy = "hct", after = ["ino3"] }"#),
            ),
        ],
    );
    for (s, cycles) in [(0, 2), (1, 3)] {
        let mut seen = [0; 2];
        for tr in trajectories(&m, s, 300, 24) {
            let (transplanted, episode) =
                (tr.out.transplants == 1, tr.out.end.get() > 128.0 + 14.0);
            if !transplanted || !episode {
                continue; // died before the transplant or the SOS onset
            }
            let prior = tr.attrs.prior_hct;
            let trm = tr
                .log
                .iter()
                .any(|r| matches!(r.item, Item::Note(Note::TransplantDeathAt(_))));
            assert_eq!(trm, prior, "{cycles} cycles: TRM with prior HCT {prior}");
            assert_eq!(
                tr.out.sos,
                prior || cycles > 2,
                "{cycles} cycles: SOS with prior HCT {prior}"
            );
            seen[usize::from(prior)] += 1;
        }
        assert!(
            seen[0] >= 100 && seen[1] >= 100,
            "{cycles} cycles: {seen:?}"
        );
    }
}

/// Antigen escape at a relapse follows its probabilities, and an antigen already lost is not
/// lost again: a first line that always works, with relapse 100 days after the response, under
/// certain lineage switch, certain CD19 loss, certain CD22 loss, or no escape at all. Half the
/// patients are CD22-negative from the start. The relapse's sites follow theirs: CNS certain
/// and extramedullary impossible, or the reverse. Would fail if a draw were ignored or compared
/// the wrong way, or if an antigen already lost were reported lost again.
#[test]
fn antigen_escape_at_relapse_follows_its_probabilities() {
    let relapse = r#"{ dist = "fixed", value = 100.0, unit = "days" }"#;
    // (CD19 loss, CD22 loss, lineage switch) probabilities, and the escapes expected.
    let cases = [
        ((0.0, 0.0, 1.0), vec![Escape::Lineage]),
        ((1.0, 0.0, 0.0), vec![Escape::Cd19]),
        ((0.0, 1.0, 0.0), vec![Escape::Cd22]),
        ((0.0, 0.0, 0.0), vec![]),
    ];
    for (k, ((cd19, cd22, lineage), want)) in cases.into_iter().enumerate() {
        let cns = k % 2 == 0;
        let (p_cns, p_emd) = if cns { ("1.0", "0.0") } else { ("0.0", "1.0") };
        let m = model(
            false,
            &[
                ("cd22", "{ high = 0.5, partial = 0.0, negative = 0.5 }"),
                ("relapse_cns", p_cns),
                ("relapse_extramedullary", p_emd),
            ],
            &[
                therapy(
                    "chemo",
                    CHEMO,
                    &[
                        ("response", "1.0"),
                        ("consolidation_cycles", "0"),
                        ("relapse", relapse),
                        ("escape", &escape(cd19, 0.0, cd22, lineage)),
                    ],
                ),
                therapy("next", CHEMO, &[]),
            ],
            &[strategy(
                "relapse",
                &[
                    r#"{ therapies = ["chemo"] }"#,
                    r#"{ therapies = ["next"] }"#,
                ],
                None,
            )],
        );
        let mut relapses = [0; 2];
        for tr in trajectories(&m, 0, 200, 25) {
            let Some(at) = tr
                .log
                .iter()
                .position(|r| r.item == Item::Event(Event::Relapse))
            else {
                continue; // died before the relapse
            };
            let before = tr.log[at].state;
            let escapes: Vec<Escape> = tr.log[at..]
                .iter()
                .take_while(|r| r.t == tr.log[at].t)
                .filter_map(|r| match r.item {
                    Item::Note(Note::Escaped(e)) => Some(e),
                    _ => None,
                })
                .collect();
            let cd22_negative = before.cd22 == Cd22::Negative;
            // CD22 already lost: no second loss to report.
            let expected: Vec<Escape> = want
                .iter()
                .copied()
                .filter(|e| !(cd22_negative && *e == Escape::Cd22))
                .collect();
            assert_eq!(
                escapes, expected,
                "escape ({cd19}, {cd22}, {lineage}), CD22-negative {cd22_negative}"
            );
            let sites = tr.log[at..].iter().find_map(|r| match r.item {
                Item::Note(Note::RelapseAt {
                    cns,
                    extramedullary,
                    ..
                }) => Some((cns, extramedullary)),
                _ => None,
            });
            assert_eq!(
                sites,
                Some((cns, !cns)),
                "relapse sites (CNS, extramedullary)"
            );
            relapses[usize::from(cd22_negative)] += 1;
        }
        assert!(
            relapses[0] >= 50 && relapses[1] >= 50,
            "escape ({cd19}, {cd22}, {lineage}): relapses {relapses:?}"
        );
    }
}

/// A patient who can get no therapy at all goes to supportive care at day 0, an EFS event at
/// day 0 (a treatment failure). Here everyone is CD19-negative and the only line is
/// blinatumomab. Would fail if EFS ran on to the death.
#[test]
fn no_therapy_at_all_is_an_efs_event_at_day_0() {
    let m = model(
        false,
        &[("cd19_negative", "1.0")],
        &[therapy("blin", BLIN, &[])],
        &[strategy("blin", &[r#"{ therapies = ["blin"] }"#], None)],
    );
    for tr in trajectories(&m, 0, 50, 26) {
        assert_eq!(tr.out.lines, 0);
        assert!(tr.out.efs_event && tr.out.efs == Days::ZERO, "{:?}", tr.out);
        assert!(tr.out.end > Days::ZERO);
    }
}
