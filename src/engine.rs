//! The per-patient event loop: one [`Event`] enum, one exhaustive `match`.
//!
//! A patient starts at time 0 with active disease and the first line of the strategy. Every
//! later step is an event in the patient's [`EventQueue`]: the end of a treatment cycle, the
//! CAR-T steps, a response assessment, a transplant, a relapse, a death. Handling an event may
//! schedule new ones or cancel a whole [`Track`] (a relapse cancels the pending transplant).
//! The loop ends at death or at the end of the horizon; nothing is processed after it.
//!
//! Every random draw comes from the patient's keyed streams ([`crate::rng`]), one stream per
//! process and therapy, so the same patient under another strategy draws the same numbers for
//! every process the strategies share.

use crate::econ::{Accounts, Ledger};
use crate::model::{
    Burden, CarT, Cd22, Condition, Cost, Course, Grade, Health, Horizon, MAX_THERAPIES, Model,
    OddsRatios, Process, RateCtx, Strategy, Target, TherapyId, TherapyKind, TherapySet, ToxKind,
    Toxicity, apply_odds_ratio,
};
use crate::patient::Attributes;
use crate::queue::{EventQueue, Phase, Reserved, Track};
use crate::rng::{RunKey, Streams, bernoulli, uniform};
use crate::time::{DAYS_PER_YEAR, Days};

/// Cause of death.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// Leukemia (in supportive care, after the last line).
    Disease = 0,
    /// Non-leukemia mortality of the general population.
    Background = 1,
    /// Died between apheresis and CAR-T infusion.
    WaitingForCarT = 2,
    /// Transplant-related mortality (infection, GVHD, organ failure after HCT).
    TransplantRelated = 3,
    /// Cytokine release syndrome.
    Crs = 4,
    /// Neurotoxicity.
    Icans = 5,
    /// SOS/VOD.
    Sos = 6,
    /// Infection during chemotherapy.
    Infection = 7,
    /// GVHD flare on immunotherapy.
    Gvhd = 8,
}

impl Cause {
    /// Number of causes.
    pub const COUNT: usize = 9;
    /// All causes, in index order.
    pub const ALL: [Cause; Cause::COUNT] = [
        Cause::Disease,
        Cause::Background,
        Cause::WaitingForCarT,
        Cause::TransplantRelated,
        Cause::Crs,
        Cause::Icans,
        Cause::Sos,
        Cause::Infection,
        Cause::Gvhd,
    ];

    /// snake_case label for outputs.
    pub fn label(self) -> &'static str {
        match self {
            Cause::Disease => "disease",
            Cause::Background => "background",
            Cause::WaitingForCarT => "waiting_for_car_t",
            Cause::TransplantRelated => "transplant_related",
            Cause::Crs => "crs",
            Cause::Icans => "icans",
            Cause::Sos => "sos",
            Cause::Infection => "infection",
            Cause::Gvhd => "gvhd",
        }
    }

    /// Death from a toxicity of treatment (not transplant-related mortality).
    pub fn is_toxic(self) -> bool {
        matches!(
            self,
            Cause::Crs | Cause::Icans | Cause::Sos | Cause::Infection | Cause::Gvhd
        )
    }

    fn of(kind: ToxKind) -> Cause {
        match kind {
            ToxKind::Crs => Cause::Crs,
            ToxKind::Icans => Cause::Icans,
            ToxKind::Sos => Cause::Sos,
            ToxKind::Infection => Cause::Infection,
            ToxKind::Gvhd => Cause::Gvhd,
        }
    }
}

/// Everything that can happen to a patient at a scheduled time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// Start the next line of the strategy (first eligible candidate), or supportive care.
    StartLine,
    /// End of treatment cycle `cycle` (from 1) of the current course.
    CycleEnd {
        /// Cycle number, from 1.
        cycle: u32,
    },
    /// CAR-T: leukapheresis; manufacturing (and any bridging) starts.
    Apheresis,
    /// CAR-T: manufacturing finished.
    ManufacturingDone {
        /// The product could not be made.
        failed: bool,
    },
    /// CAR-T: the patient dies or becomes ineligible before infusion.
    WaitingDropout,
    /// CAR-T: cells infused.
    Infusion,
    /// CAR-T: response assessment after infusion.
    ResponseAssessment,
    /// Onset of a toxicity episode.
    Toxicity {
        /// Which.
        kind: ToxKind,
        /// How bad.
        grade: Grade,
        /// How long it lasts \[days\].
        days: f64,
        /// Caused by the first therapy given (its course, bridge or infusion, or the HCT that
        /// consolidates its remission): what a trial reports as the toxicity of its study arm.
        first_line: bool,
    },
    /// Onset of GVHD after a transplant.
    Gvhd {
        /// Chronic (else acute).
        chronic: bool,
    },
    /// Allogeneic HCT performed.
    Transplant,
    /// The leukemia comes back.
    Relapse,
    /// Death.
    Death(Cause),
    /// End of the time horizon.
    HorizonEnd,
}

impl Event {
    /// Tie-break rank at equal times (see [`crate::queue`]).
    pub fn phase(self) -> Phase {
        match self {
            Event::Death(_) => Phase::Death,
            Event::Relapse => Phase::Disease,
            Event::HorizonEnd => Phase::Horizon,
            Event::StartLine
            | Event::CycleEnd { .. }
            | Event::Apheresis
            | Event::ManufacturingDone { .. }
            | Event::WaitingDropout
            | Event::Infusion
            | Event::ResponseAssessment
            | Event::Toxicity { .. }
            | Event::Gvhd { .. }
            | Event::Transplant => Phase::Care,
        }
    }
}

/// Why a candidate therapy was passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    /// The leukemia lacks the target antigen (or has switched lineage).
    Antigen,
    /// Outside the therapy's age window.
    Age,
    /// Over the label age, and the scenario has no trial access.
    LabelAge,
    /// The patient has had the therapy's maximum number of courses.
    Courses,
    /// The strategy's condition for this candidate does not hold.
    Condition,
}

/// What the leukemia lost at a relapse or failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Became CD19-negative.
    Cd19,
    /// Became CD22-negative.
    Cd22,
    /// Switched lineage (to AML): no B-lineage antigen left.
    Lineage,
}

/// Why a remission was not consolidated with HCT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoTransplant {
    /// The strategy's rule excludes this remission (its condition does not hold).
    Rule,
    /// No donor, not fit, too old, or the lifetime maximum of transplants reached.
    NotEligible,
}

/// Something that happened while handling an event, reported to an [`Observer`] for traces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Note {
    /// A line of therapy started.
    Started {
        /// Therapy.
        therapy: TherapyId,
        /// Line number in the patient's sequence, from 1.
        line: u8,
    },
    /// A line of the strategy was skipped: its condition does not hold.
    LineSkipped {
        /// Index of the line in the strategy, from 0.
        index: usize,
    },
    /// A candidate was passed over.
    Skipped {
        /// Therapy.
        therapy: TherapyId,
        /// Why.
        reason: Ineligible,
    },
    /// A bridging therapy started while the CAR-T product is made.
    Bridge {
        /// Therapy.
        therapy: TherapyId,
    },
    /// Outcome of the bridge, seen at infusion.
    BridgeResponse {
        /// Therapy.
        therapy: TherapyId,
        /// Whether the burden fell to MRD level.
        responded: bool,
    },
    /// Response (CR/CRh/CRi).
    Response {
        /// Therapy.
        therapy: TherapyId,
        /// MRD-negative.
        mrd_negative: bool,
    },
    /// No response: the line failed.
    NoResponse {
        /// Therapy.
        therapy: TherapyId,
    },
    /// Not enough T cells collected.
    ApheresisFailed,
    /// Consolidation cycles cut to respect a cap on cycles before HCT.
    CyclesCapped {
        /// Consolidation cycles left.
        left: u32,
    },
    /// Transplant scheduled in remission.
    TransplantPlanned {
        /// When.
        at: Days,
    },
    /// Remission not consolidated.
    NoTransplant(NoTransplant),
    /// CAR-T dropout: became ineligible (not died).
    BecameIneligible,
    /// Transplant-related death decided, at this time.
    TransplantDeathAt(Days),
    /// Relapse: burden and sites.
    RelapseAt {
        /// Marrow burden.
        burden: Burden,
        /// CNS involvement.
        cns: bool,
        /// Other extramedullary involvement.
        extramedullary: bool,
    },
    /// The leukemia lost an antigen or switched lineage.
    Escaped(Escape),
    /// Supportive care started.
    Supportive,
}

/// Receives every processed event and note, with the patient's state at that moment; for
/// traces and for the tests that check the pathway's rules. The engine calls it on the hot
/// path, so the no-op `()` observer compiles to nothing.
pub trait Observer {
    /// An event was popped and is about to be handled.
    fn event(&mut self, _time: Days, _event: Event, _state: &Attributes) {}
    /// Something happened while handling it.
    fn note(&mut self, _time: Days, _note: Note, _state: &Attributes) {}
}

impl Observer for () {}

/// What one patient's trajectory under one strategy produced: a flat record. The default is
/// the record before anything happened (all zero, false or `None`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Outcome {
    /// Time of death or censoring.
    pub end: Days,
    /// Cause of death; `None` if censored at the horizon.
    pub death: Option<Cause>,
    /// Event-free survival time.
    pub efs: Days,
    /// Whether `efs` is an event (first-line failure, relapse or death) rather than censoring.
    pub efs_event: bool,
    /// Responded to the first therapy given.
    pub first_response: bool,
    /// ... and was MRD-negative.
    pub first_mrd_negative: bool,
    /// Time of that response.
    pub first_response_time: Option<Days>,
    /// Any CAR-T was started (apheresis intended).
    pub car_t_intended: bool,
    /// CAR-T cells were infused.
    pub car_t_infused: bool,
    /// Time of the first infusion.
    pub infusion_time: Option<Days>,
    /// A CAR-T product failed manufacturing.
    pub manufacturing_failed: bool,
    /// Died between apheresis and infusion.
    pub died_waiting: bool,
    /// Any grade >= 3 CRS.
    pub crs_grade3plus: bool,
    /// Any grade >= 3 neurotoxicity.
    pub icans_grade3plus: bool,
    /// Any SOS/VOD.
    pub sos: bool,
    /// Grade >= 3 CRS caused by the first line (see [`Event::Toxicity`]).
    pub first_line_crs_grade3plus: bool,
    /// Grade >= 3 neurotoxicity caused by the first line.
    pub first_line_icans_grade3plus: bool,
    /// SOS/VOD caused by the first line.
    pub first_line_sos: bool,
    /// Any acute GVHD after HCT.
    pub acute_gvhd: bool,
    /// Any chronic GVHD after HCT.
    pub chronic_gvhd: bool,
    /// Transplants during the strategy.
    pub transplants: u8,
    /// Relapses during the strategy.
    pub relapses: u8,
    /// Time of the first relapse.
    pub first_relapse_time: Option<Days>,
    /// The first relapse was CD19-negative.
    pub first_relapse_cd19_negative: bool,
    /// Lines of therapy given.
    pub lines: u8,
    /// Costs, life-years and QALYs (zero without economics).
    pub accounts: Accounts,
}

/// Reusable per-thread memory: the event queue and the stream cache. Allocated once per chunk
/// worker, never per patient.
#[derive(Debug, Clone)]
pub struct Workspace {
    queue: EventQueue<Event>,
    streams: Streams,
    /// The current patient's time of background death, the same under every strategy:
    /// computed once per patient, with the (run, patient, age) it was computed for.
    background: Option<(RunKey, u64, f64, f64)>,
}

impl Workspace {
    /// A workspace for `model`'s streams.
    pub fn new(model: &Model) -> Workspace {
        Workspace {
            queue: EventQueue::new(),
            streams: Streams::new(model.process_keys(), &model.drawn_slots()),
            background: None,
        }
    }

    /// Days from time 0 to the background death of `patient` aged `age`: one uniform from
    /// the patient's `background` stream, inverted through the population's mortality and
    /// capped at its maximum age. Cached for the patient's other strategies.
    fn background_death_days(&mut self, model: &Model, run: RunKey, patient: u64, age: f64) -> f64 {
        if let Some((r, p, a, days)) = self.background
            && r == run
            && p == patient
            && a.to_bits() == age.to_bits()
        {
            return days;
        }
        let pop = &model.population;
        let s = 1.0 - uniform(self.streams.get(Process::Background.slot()));
        let years = pop
            .background
            .inverse_survival_years(age, s)
            .min(pop.max_age - age);
        let days = years * DAYS_PER_YEAR;
        self.background = Some((run, patient, age, days));
        days
    }

    /// How many streams were seeded on the streams' lazy path: zero unless
    /// [`Model::drawn_slots`] misses a process the engine draws from (results stay correct,
    /// only slower; see [`crate::rng::Streams`]).
    pub fn lazy_stream_seeds(&self) -> u64 {
        self.streams.lazy_seeds()
    }

    /// Draws the attributes of `patient` in `run`.
    pub fn attributes(&mut self, model: &Model, run: RunKey, patient: u64) -> Attributes {
        self.streams.reset(run, patient);
        Attributes::sample(
            &model.population,
            self.streams.get(Process::Attributes.slot()),
        )
    }
}

/// Where the patient is on the pathway.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// Active disease, no therapy running (between lines).
    Between,
    /// A course of a cycle-based therapy is running.
    Course {
        therapy: TherapyId,
        /// Induction cycle after which the patient responds; 0 = no response.
        responds_at: u32,
        /// Consolidation cycles still to give once in remission.
        consolidation_left: u32,
        in_remission: bool,
    },
    /// In the CAR-T pipeline, from the decision to the response assessment.
    CarT {
        therapy: TherapyId,
        /// Bridging therapy given while waiting.
        bridge: Option<TherapyId>,
    },
    /// In remission after a therapy, nothing running.
    Remission,
    /// After allogeneic HCT.
    PostTransplant,
    /// Best supportive care.
    Supportive,
}

/// The remission being lived: which therapy induced it and its MRD status.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Remission {
    therapy: TherapyId,
    mrd_negative: bool,
    /// Induced by the first therapy given.
    first_line: bool,
}

/// Simulates one patient under one strategy.
///
/// `attrs` must come from [`Workspace::attributes`] for the same `run` and `patient`.
pub fn simulate<O: Observer>(
    model: &Model,
    strategy: usize,
    run: RunKey,
    patient: u64,
    attrs: &Attributes,
    ws: &mut Workspace,
    obs: &mut O,
) -> Outcome {
    let mut out = Outcome::default();
    simulate_into(model, strategy, run, patient, attrs, ws, obs, &mut out);
    out
}

/// [`simulate`], writing the outcome into `out` (whatever it held before) instead of
/// returning it: the cohort loop keeps one outcome per strategy and avoids copying them.
#[allow(clippy::too_many_arguments)]
pub fn simulate_into<O: Observer>(
    model: &Model,
    strategy: usize,
    run: RunKey,
    patient: u64,
    attrs: &Attributes,
    ws: &mut Workspace,
    obs: &mut O,
    out: &mut Outcome,
) {
    ws.queue.clear();
    ws.streams.reset(run, patient);
    let background_days = ws.background_death_days(model, run, patient, attrs.age);
    *out = Outcome::default();
    let mut sim = Sim {
        model,
        strategy: &model.strategies[strategy],
        attrs: *attrs,
        queue: &mut ws.queue,
        streams: &mut ws.streams,
        obs,
        stage: Stage::Between,
        next_line: 0,
        current_line: 0,
        transplants: u32::from(attrs.prior_hct),
        courses: [0; MAX_THERAPIES],
        cycles: [0; MAX_THERAPIES],
        received: 0,
        remission: None,
        ledger: model.economics.as_ref().map(Ledger::new),
        out,
        start: None,
    };
    sim.run(background_days);
}

struct Sim<'a, O: Observer> {
    model: &'a Model,
    strategy: &'a Strategy,
    /// Current attributes: burden, sites and antigen status change along the way.
    attrs: Attributes,
    queue: &'a mut EventQueue<Event>,
    streams: &'a mut Streams,
    obs: &'a mut O,
    stage: Stage,
    /// Index of the next strategy line to consider.
    next_line: usize,
    /// Index of the strategy line being given.
    current_line: usize,
    /// Allogeneic transplants in the patient's life (a prior HCT counts).
    transplants: u32,
    /// Courses started, by therapy.
    courses: [u8; MAX_THERAPIES],
    /// Cycles completed, by therapy.
    cycles: [u16; MAX_THERAPIES],
    /// Therapies received during the strategy.
    received: TherapySet,
    remission: Option<Remission>,
    /// The patient's accounts, when the scenario has economics.
    ledger: Option<Ledger<'a>>,
    out: &'a mut Outcome,
    /// A start of line asked for and not yet handled or queued ([`Sim::start_line`]).
    start: Option<(Days, Reserved)>,
}

/// Whether the loop goes on after an event.
enum Flow {
    Continue,
    Stop,
}

/// A patient needing more events than this is a bug in the pathway logic (a cycle of
/// zero-time events), not a property of any scenario.
const MAX_EVENTS: u32 = 100_000;

/// Odds-ratio modifiers of a response for this patient.
fn modified(p: f64, or: &OddsRatios, a: &Attributes) -> f64 {
    let mut p = p;
    if a.cns {
        p = apply_odds_ratio(p, or.cns);
    }
    if a.extramedullary {
        p = apply_odds_ratio(p, or.extramedullary);
    }
    if a.kmt2a {
        p = apply_odds_ratio(p, or.kmt2a);
    }
    if a.ph_positive {
        p = apply_odds_ratio(p, or.ph_positive);
    }
    p
}

impl<'a, O: Observer> Sim<'a, O> {
    fn run(&mut self, background_days: f64) {
        self.schedule_start(background_days);
        let mut handled = 0u32;
        loop {
            let (t, event) = if let Some((t, r)) = self.start.take() {
                // A start of line asked for by the last event: handled at once when it would
                // be the next to pop anyway (the usual case), else queued in its place.
                if !self.queue.is_live(r) {
                    continue;
                }
                if !self.queue.would_pop_next(t, Phase::Care, r) {
                    self.queue
                        .schedule_reserved(t, Phase::Care, r, Event::StartLine);
                    continue;
                }
                (t, Event::StartLine)
            } else if let Some(entry) = self.queue.pop() {
                (entry.time, entry.event)
            } else {
                break;
            };
            handled += 1;
            assert!(handled < MAX_EVENTS, "runaway event loop");
            self.obs.event(t, event, &self.attrs);
            if let Flow::Stop = self.handle(t, event) {
                break;
            }
        }
        if !self.out.efs_event {
            self.out.efs = self.out.end;
        }
        if let Some(l) = &mut self.ledger {
            self.out.accounts = l.close(self.out.end.get());
        }
    }

    fn enter(&mut self, t: Days, health: Health) {
        if let Some(l) = &mut self.ledger {
            l.enter(t.get(), health);
        }
    }

    fn charge(&mut self, t: Days, cost: &Cost) {
        if let Some(l) = &mut self.ledger {
            l.charge(t.get(), cost);
        }
    }

    fn note(&mut self, t: Days, note: Note) {
        self.obs.note(t, note, &self.attrs);
    }

    // Always inlined, with the queue's `schedule`, so that the event goes to the queue from
    // registers rather than through memory. Perf attributed half the cost of scheduling to a
    // store-forwarding stall on the event; in A/B runs the inlining was neutral in time, and it
    // saves instructions.
    #[inline(always)]
    fn at(&mut self, t: Days, delay_days: f64, track: Track, event: Event) {
        let delay = Days::new(delay_days).expect("compiled delays are finite");
        self.queue.schedule(t + delay, event.phase(), track, event);
    }

    /// Asks for the next line to start at `t` ([`Event::StartLine`] on the care track): as if
    /// scheduled now, but handled without a trip through the queue when nothing comes before
    /// it (see [`EventQueue::reserve`]). At most one is pending: a handler asks once.
    fn start_line(&mut self, t: Days) {
        debug_assert!(self.start.is_none(), "two starts of line asked at once");
        self.start = Some((t, self.queue.reserve(Track::Care)));
    }

    #[inline(always)]
    fn at_time(&mut self, t: Days, track: Track, event: Event) {
        self.queue.schedule(t, event.phase(), track, event);
    }

    fn schedule_start(&mut self, background_days: f64) {
        self.at(
            Days::ZERO,
            background_days,
            Track::Fixed,
            Event::Death(Cause::Background),
        );
        if let Horizon::Days(h) = self.model.horizon {
            self.at(Days::ZERO, h, Track::Fixed, Event::HorizonEnd);
        }
        self.start_line(Days::ZERO);
    }

    /// The single dispatch on events.
    fn handle(&mut self, t: Days, event: Event) -> Flow {
        match event {
            Event::StartLine => self.start_next_line(t),
            Event::CycleEnd { cycle } => self.cycle_end(t, cycle),
            Event::Apheresis => self.apheresis(t),
            Event::ManufacturingDone { failed } => self.manufacturing_done(t, failed),
            Event::WaitingDropout => self.waiting_dropout(t),
            Event::Infusion => self.infusion(t),
            Event::ResponseAssessment => self.car_t_assessment(t),
            Event::Toxicity {
                kind,
                grade,
                days,
                first_line,
            } => {
                let severe = grade != Grade::Low;
                if first_line {
                    match kind {
                        ToxKind::Crs => self.out.first_line_crs_grade3plus |= severe,
                        ToxKind::Icans => self.out.first_line_icans_grade3plus |= severe,
                        ToxKind::Sos => self.out.first_line_sos = true,
                        ToxKind::Infection | ToxKind::Gvhd => {}
                    }
                }
                if let (Some(l), Some(e)) = (&mut self.ledger, &self.model.economics) {
                    let g = usize::from(severe);
                    l.charge(t.get(), &e.toxicity_costs[kind as usize][g]);
                    l.episode(t.get(), days, e.toxicity_disutilities[kind as usize][g]);
                }
                match kind {
                    ToxKind::Crs => self.out.crs_grade3plus |= severe,
                    ToxKind::Icans => self.out.icans_grade3plus |= severe,
                    ToxKind::Sos => self.out.sos = true,
                    ToxKind::Infection | ToxKind::Gvhd => {}
                }
            }
            Event::Gvhd { chronic } => {
                self.gvhd_accounts(t, chronic);
                if chronic {
                    self.out.chronic_gvhd = true;
                } else {
                    self.out.acute_gvhd = true;
                }
            }
            Event::Transplant => self.transplant(t),
            Event::Relapse => self.relapse(t),
            Event::Death(cause) => {
                if cause != Cause::Background
                    && let Some(e) = &self.model.economics
                {
                    self.charge(t, &e.terminal_care);
                }
                self.out.death = Some(cause);
                self.out.end = t;
                self.efs_event(t);
                return Flow::Stop;
            }
            Event::HorizonEnd => {
                self.out.end = t;
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    fn gvhd_accounts(&mut self, t: Days, chronic: bool) {
        let (Some(e), Some(rule)) = (&self.model.economics, &self.strategy.consolidation) else {
            return;
        };
        let TherapyKind::Hct(h) = &self.model.therapies[rule.hct].kind else {
            return;
        };
        let (cost, days, d) = if chronic {
            (
                &h.costs.chronic_gvhd,
                h.chronic_gvhd.duration_days,
                e.gvhd_disutility[1],
            )
        } else {
            (
                &h.costs.acute_gvhd,
                h.acute_gvhd.duration_days,
                e.gvhd_disutility[0],
            )
        };
        if let Some(l) = &mut self.ledger {
            l.charge(t.get(), cost);
            l.episode(t.get(), days, d);
        }
    }

    fn age_at(&self, t: Days) -> f64 {
        self.attrs.age + t.years()
    }

    fn ctx(&self, t: Days) -> RateCtx {
        RateCtx {
            burden: self.attrs.burden,
            age: self.age_at(t),
            // The salvage line of the line being given: the patient's line at time 0, plus one
            // for every line started before the current one.
            line: (u32::from(self.attrs.salvage_line) + u32::from(self.out.lines.saturating_sub(1)))
                .min(3) as u8,
            prior_hct: self.attrs.prior_hct,
            kmt2a: self.attrs.kmt2a,
        }
    }

    fn holds(&self, c: &Condition, t: Days) -> bool {
        if !c.constrained {
            return true;
        }
        let a = &self.attrs;
        let age = self.age_at(t);
        c.cd19_positive.is_none_or(|p| p != a.cd19_negative)
            && c.cd22_positive
                .is_none_or(|p| p == (a.cd22 != Cd22::Negative))
            && c.min_age.is_none_or(|m| age >= m)
            && c.max_age.is_none_or(|m| age <= m)
            && c.cns.is_none_or(|x| x == a.cns)
            && c.prior_hct.is_none_or(|x| x == a.prior_hct)
            && c.min_burden.is_none_or(|b| a.burden >= b)
            && c.max_burden.is_none_or(|b| a.burden <= b)
            && self.received & c.received == c.received
            && self.received & c.not_received == 0
            && c.mrd_positive
                .is_none_or(|p| self.remission.is_some_and(|r| r.mrd_negative != p))
    }

    // Never inlined, and nor are `course_response`, `schedule_toxicities`, `line_failed` and
    // `enter_remission`: the profile-guided build inlined all five into the event loop, and
    // `release` inlined some of them. As calls (2026-11-23, Zen 3, 4x10^5 patients on one
    // thread, interleaved pairs), the profile-guided binary took 0.977 and 0.984 of the time at
    // best (0.981 and 0.959 median; 2 sets of 10) and its instruction-cache misses under
    // callgrind fell from 29.8 to 11.0 per trajectory, for 1.1% more instructions; `release`
    // took 0.978 at best and 0.958 median (16 pairs, 14 faster), though callgrind counts it 3.5
    // more misses (30.9) and 0.2% more instructions. Outputs are byte-identical.
    #[inline(never)]
    fn eligible(&self, therapy: TherapyId, when: &Condition, t: Days) -> Result<(), Ineligible> {
        let th = &self.model.therapies[therapy];
        let antigen = match th.target {
            Target::Cd19 => !self.attrs.cd19_negative,
            Target::Cd22 => self.attrs.cd22 != Cd22::Negative,
            Target::None => true,
        };
        if !antigen {
            return Err(Ineligible::Antigen);
        }
        let age = self.age_at(t);
        if age < th.min_age || age > th.max_age {
            return Err(Ineligible::Age);
        }
        if age > th.label_max_age && !self.model.trial_access {
            return Err(Ineligible::LabelAge);
        }
        if u32::from(self.courses[therapy]) >= th.max_courses {
            return Err(Ineligible::Courses);
        }
        if !self.holds(when, t) {
            return Err(Ineligible::Condition);
        }
        Ok(())
    }

    fn efs_event(&mut self, t: Days) {
        if !self.out.efs_event {
            self.out.efs_event = true;
            self.out.efs = t;
        }
    }

    fn start_next_line(&mut self, t: Days) {
        let strategy = self.strategy;
        while let Some(line) = strategy.lines.get(self.next_line) {
            let index = self.next_line;
            self.next_line += 1;
            if !self.holds(&line.when, t) {
                self.note(t, Note::LineSkipped { index });
                continue;
            }
            for c in &line.candidates {
                match self.eligible(c.therapy, &c.when, t) {
                    Ok(()) => {
                        self.current_line = index;
                        return self.start_therapy(t, c.therapy);
                    }
                    Err(reason) => self.note(
                        t,
                        Note::Skipped {
                            therapy: c.therapy,
                            reason,
                        },
                    ),
                }
            }
        }
        self.enter_supportive(t);
    }

    fn start_therapy(&mut self, t: Days, therapy: TherapyId) {
        self.out.lines += 1;
        self.note(
            t,
            Note::Started {
                therapy,
                line: self.out.lines,
            },
        );
        self.enter(t, Health::OnTreatment);
        match &self.model.therapies[therapy].kind {
            TherapyKind::Course(c) => self.start_course(t, therapy, c),
            TherapyKind::CarT(c) => {
                self.mark_given(therapy);
                self.out.car_t_intended = true;
                self.stage = Stage::CarT {
                    therapy,
                    bridge: None,
                };
                self.at(t, c.apheresis_days, Track::Care, Event::Apheresis);
            }
            TherapyKind::Hct(_) | TherapyKind::Supportive(_) => {
                unreachable!(
                    "the scenario compiler keeps transplant and supportive care out of lines"
                )
            }
        }
    }

    fn mark_given(&mut self, therapy: TherapyId) {
        self.courses[therapy] = self.courses[therapy].saturating_add(1);
        self.received |= 1 << therapy;
    }

    /// Response probability of a course-based therapy for this patient now.
    #[inline(never)] // see `eligible`
    fn course_response(&self, t: Days, therapy: TherapyId, c: &Course) -> f64 {
        let base = if self.courses[therapy] > 1 {
            c.retreatment_response
        } else {
            c.response
        };
        modified(base.eval(&self.ctx(t)), &c.odds_ratios, &self.attrs)
    }

    fn start_course(&mut self, t: Days, therapy: TherapyId, c: &'a Course) {
        self.mark_given(therapy);
        // The course's response is decided now, from two draws: whether, and after which
        // induction cycle.
        let p = self.course_response(t, therapy, c);
        let rng = self.streams.get(Process::Response(therapy).slot());
        let responds = bernoulli(rng, p);
        let by_cycle_1 = bernoulli(rng, c.responders_by_cycle_1);
        let responds_at = match (responds, by_cycle_1) {
            (false, _) => 0,
            (true, true) => 1,
            (true, false) => 2.min(c.induction_cycles),
        };
        self.stage = Stage::Course {
            therapy,
            responds_at,
            consolidation_left: c.consolidation_cycles,
            in_remission: false,
        };
        self.at(t, c.cycle_days, Track::Care, Event::CycleEnd { cycle: 1 });
        self.charge(t, &c.cost_per_cycle);
        self.schedule_toxicities(t, therapy, &c.toxicities);
    }

    /// Draws each toxicity's grade (one uniform each, nested thresholds) and schedules the
    /// episodes. Episodes are on the fixed track: once a course has caused one, a later change
    /// of plan does not undo it.
    #[inline(never)] // see `eligible`
    fn schedule_toxicities(&mut self, t: Days, therapy: TherapyId, list: &'a [Toxicity]) {
        if list.is_empty() {
            return;
        }
        let ctx = self.ctx(t);
        // The stream is copied out for the loop and put back after it (scheduling an episode
        // draws nothing), so that its state stays in a register instead of going through
        // `Streams` at every draw.
        let slot = Process::Toxicity(therapy).slot();
        let mut rng = self.streams.get(slot).clone();
        for tox in list {
            let u = uniform(&mut rng);
            // Nested thresholds fatal <= grade3plus <= any_grade (checked at load), tested from
            // the widest: most draws stop at the first comparison.
            if u >= tox.any_grade.eval(&ctx) {
                continue;
            }
            let grade = if u >= tox.grade3plus.eval(&ctx) {
                Grade::Low
            } else if u >= tox.fatal.eval(&ctx) {
                Grade::Severe
            } else {
                Grade::Fatal
            };
            let first_line = self.out.lines == 1;
            self.episode(
                t,
                tox.kind,
                grade,
                (tox.onset_days, tox.duration_days),
                first_line,
            );
        }
        *self.streams.get(slot) = rng;
    }

    /// Schedules an episode at `t + onset` lasting `duration` days (`timing` = (onset,
    /// duration)), and its death if fatal.
    fn episode(
        &mut self,
        t: Days,
        kind: ToxKind,
        grade: Grade,
        timing: (f64, f64),
        first_line: bool,
    ) {
        let (onset, duration) = timing;
        let event = Event::Toxicity {
            kind,
            grade,
            days: duration,
            first_line,
        };
        self.at(t, onset, Track::Fixed, event);
        if grade == Grade::Fatal {
            self.at(
                t,
                onset + duration,
                Track::Fixed,
                Event::Death(Cause::of(kind)),
            );
        }
    }

    fn course(&self, therapy: TherapyId) -> &'a Course {
        match &self.model.therapies[therapy].kind {
            TherapyKind::Course(c) => c,
            _ => unreachable!("course events only for course-based therapies"),
        }
    }

    fn car_t(&self, therapy: TherapyId) -> &'a CarT {
        match &self.model.therapies[therapy].kind {
            TherapyKind::CarT(c) => c,
            _ => unreachable!("CAR-T events only for CAR-T therapies"),
        }
    }

    fn current_car_t(&self) -> (TherapyId, Option<TherapyId>) {
        match self.stage {
            Stage::CarT { therapy, bridge } => (therapy, bridge),
            s => unreachable!("CAR-T event in stage {s:?}"),
        }
    }

    fn cycle_end(&mut self, t: Days, cycle: u32) {
        let Stage::Course {
            therapy,
            responds_at,
            consolidation_left,
            in_remission,
        } = self.stage
        else {
            unreachable!("cycle end in stage {:?}", self.stage)
        };
        self.cycles[therapy] = self.cycles[therapy].saturating_add(1);
        let c = self.course(therapy);
        let next = Event::CycleEnd { cycle: cycle + 1 };
        let mut left = consolidation_left;
        if in_remission {
            left -= 1;
        } else if cycle == responds_at {
            let planned =
                self.enter_remission(t, therapy, c.mrd_negative, c.mrd_positive_relapse_hr);
            if planned {
                left = self.cap_before_transplant(t, therapy, left);
            }
        } else if cycle >= c.induction_cycles {
            self.note(t, Note::NoResponse { therapy });
            return self.line_failed(t, Some(therapy));
        } else {
            self.at(t, c.cycle_days, Track::Care, next);
            self.charge(t, &c.cost_per_cycle);
            return;
        }
        // In remission: consolidation cycles, if any are left.
        if left > 0 {
            self.stage = Stage::Course {
                therapy,
                responds_at,
                consolidation_left: left,
                in_remission: true,
            };
            self.at(t, c.cycle_days, Track::Care, next);
            self.charge(t, &c.cost_per_cycle);
        } else {
            self.stage = Stage::Remission;
        }
    }

    /// Consolidation cycles allowed before a planned transplant (e.g. at most 2 inotuzumab
    /// cycles in all, because SOS risk grows with cycles: evidence G6).
    fn cap_before_transplant(&mut self, t: Days, therapy: TherapyId, left: u32) -> u32 {
        let cap = self
            .strategy
            .consolidation
            .as_ref()
            .and_then(|r| r.max_cycles_before[therapy]);
        match cap {
            Some(cap) => {
                let allowed = cap.saturating_sub(u32::from(self.cycles[therapy]));
                if allowed < left {
                    self.note(t, Note::CyclesCapped { left: allowed });
                }
                left.min(allowed)
            }
            None => left,
        }
    }

    /// The current line did not work: record first-line failure, apply antigen escape under
    /// the therapy's pressure, go to the next line.
    #[inline(never)] // see `eligible`
    fn line_failed(&mut self, t: Days, pressure: Option<TherapyId>) {
        if self.out.lines == 1 {
            // Treatment failure of the first line is an EFS event at time 0 (the ELIANA and
            // TOWER convention: EFS counts induction failure from day 1).
            self.efs_event(Days::ZERO);
        }
        if let Some(therapy) = pressure
            && let Some(e) = self.model.therapies[therapy].escape()
        {
            let p = e.cd19_at_failure.eval(&self.ctx(t));
            if bernoulli(self.streams.get(Process::Escape(therapy).slot()), p)
                && !self.attrs.cd19_negative
            {
                self.attrs.cd19_negative = true;
                self.note(t, Note::Escaped(Escape::Cd19));
            }
        }
        self.stage = Stage::Between;
        self.start_line(t);
    }

    /// Enters remission after `therapy`; returns whether a transplant was planned.
    #[inline(never)] // see `eligible`
    fn enter_remission(
        &mut self,
        t: Days,
        therapy: TherapyId,
        p_mrd_negative: crate::model::Rate,
        hr: f64,
    ) -> bool {
        let p = p_mrd_negative.eval(&self.ctx(t));
        let mrd_negative = bernoulli(self.streams.get(Process::Mrd(therapy).slot()), p);
        self.note(
            t,
            Note::Response {
                therapy,
                mrd_negative,
            },
        );
        if self.out.lines == 1 {
            self.out.first_response = true;
            self.out.first_mrd_negative = mrd_negative;
            self.out.first_response_time = Some(t);
        }
        self.attrs.burden = Burden::MrdOnly;
        self.enter(t, Health::Remission);
        self.remission = Some(Remission {
            therapy,
            mrd_negative,
            first_line: self.out.lines == 1,
        });
        let relapse = match &self.model.therapies[therapy].kind {
            TherapyKind::Course(c) => &c.relapse,
            TherapyKind::CarT(c) => &c.relapse,
            _ => unreachable!("only lines of therapy induce remission"),
        };
        let hr = if mrd_negative { 1.0 } else { hr };
        let delay = relapse.sample_hr(self.streams.get(Process::Relapse(therapy).slot()), hr);
        self.queue.cancel(Track::Disease);
        if let Some(d) = delay {
            self.at(t, d.get(), Track::Disease, Event::Relapse);
        }
        self.plan_transplant(t, therapy)
    }

    fn plan_transplant(&mut self, t: Days, after: TherapyId) -> bool {
        let Some(rule) = &self.strategy.consolidation else {
            return false;
        };
        let Some(own) = &rule.after[after] else {
            return false;
        };
        if !self.holds(&rule.when, t) || !self.holds(own, t) {
            self.note(t, Note::NoTransplant(NoTransplant::Rule));
            return false;
        }
        let TherapyKind::Hct(h) = &self.model.therapies[rule.hct].kind else {
            unreachable!("consolidation therapy is a transplant")
        };
        // The wait is drawn first (always, to keep the stream aligned): the age limit applies at
        // the date of the transplant, not at the remission.
        let rng = self.streams.get(Process::Transplant(rule.hct).slot());
        let Some(wait) = h.time_to_transplant.sample(rng) else {
            return false;
        };
        let eligible = self.attrs.donor_available
            && self.attrs.hct_fit
            && self.age_at(t + wait) <= h.max_age
            && self.transplants < h.max_transplants;
        if !eligible {
            self.note(t, Note::NoTransplant(NoTransplant::NotEligible));
            return false;
        }
        self.note(t, Note::TransplantPlanned { at: t + wait });
        self.at(t, wait.get(), Track::Care, Event::Transplant);
        true
    }

    fn transplant(&mut self, t: Days) {
        let Some(rule) = &self.strategy.consolidation else {
            unreachable!("transplant without a consolidation rule")
        };
        let hct = rule.hct;
        let TherapyKind::Hct(h) = &self.model.therapies[hct].kind else {
            unreachable!("consolidation therapy is a transplant")
        };
        let Some(remission) = self.remission else {
            unreachable!("transplant outside remission (a relapse cancels it)")
        };
        // The transplant replaces what was running and the relapse clock of the remission.
        self.queue.cancel(Track::Care);
        self.queue.cancel(Track::Disease);
        let earlier = self.transplants;
        let ctx = self.ctx(t);
        self.transplants += 1;
        self.out.transplants = self.out.transplants.saturating_add(1);
        self.attrs.prior_hct = true;
        self.mark_given(hct);
        self.stage = Stage::PostTransplant;
        self.enter(t, Health::PostHctFirstYear);
        self.charge(t, &h.costs.transplant);

        // Toxicity of the transplant, four draws in a fixed order: SOS, SOS fatality, acute
        // and chronic GVHD.
        let rng = self.streams.get(Process::Toxicity(hct).slot());
        let (u_sos, u_sos_fatal, u_agvhd, u_cgvhd) =
            (uniform(rng), uniform(rng), uniform(rng), uniform(rng));
        let mut trm = if earlier > 0 { h.trm_second } else { h.trm };
        // SOS/VOD when the remission came from a therapy with hepatic toxicity at HCT
        // (inotuzumab: evidence G1-G6).
        if let TherapyKind::Course(c) = &self.model.therapies[remission.therapy].kind
            && let Some(sos) = &c.hct_sos
        {
            let mut p = sos.probability.eval(&ctx);
            if u32::from(self.cycles[remission.therapy]) > sos.cycles_above {
                p = apply_odds_ratio(p, sos.cycles_odds_ratio);
            }
            if earlier > 0 {
                p = apply_odds_ratio(p, sos.prior_hct_odds_ratio);
            }
            if u_sos < p {
                if u_sos_fatal < sos.fatal {
                    self.episode(
                        t,
                        ToxKind::Sos,
                        Grade::Fatal,
                        (sos.onset_days, sos.duration_days),
                        remission.first_line,
                    );
                    return;
                }
                self.episode(
                    t,
                    ToxKind::Sos,
                    Grade::Severe,
                    (sos.onset_days, sos.duration_days),
                    remission.first_line,
                );
                trm = trm.max(h.trm_after_sos);
            }
        }
        if u_agvhd < h.acute_gvhd.probability {
            self.at(
                t,
                h.acute_gvhd.onset_days,
                Track::Fixed,
                Event::Gvhd { chronic: false },
            );
        }
        if u_cgvhd < h.chronic_gvhd.probability {
            self.at(
                t,
                h.chronic_gvhd.onset_days,
                Track::Fixed,
                Event::Gvhd { chronic: true },
            );
        }
        let rng = self.streams.get(Process::Transplant(hct).slot());
        let dies = bernoulli(rng, trm);
        let trm_delay = h.trm_time.sample(rng);
        if let (true, Some(d)) = (dies, trm_delay) {
            // Transplant-related death pre-empts relapse: a patient who will die of the
            // transplant is not also given a relapse time.
            self.note(t, Note::TransplantDeathAt(t + d));
            self.at(
                t,
                d.get(),
                Track::Fixed,
                Event::Death(Cause::TransplantRelated),
            );
            return;
        }
        let hr = if remission.mrd_negative {
            1.0
        } else {
            h.mrd_positive_relapse_hr
        };
        if let Some(d) = h
            .relapse
            .sample_hr(self.streams.get(Process::Relapse(hct).slot()), hr)
        {
            self.at(t, d.get(), Track::Disease, Event::Relapse);
        }
    }

    fn relapse(&mut self, t: Days) {
        self.out.relapses = self.out.relapses.saturating_add(1);
        self.efs_event(t);
        // Whatever was planned for the remission (cycles, a transplant) stops.
        self.queue.cancel(Track::Care);
        // Antigen escape under the therapy that induced the remission (three draws, always).
        if let Some(r) = self.remission
            && let Some(e) = self.model.therapies[r.therapy].escape()
        {
            let ctx = self.ctx(t);
            let rng = self.streams.get(Process::Escape(r.therapy).slot());
            let (u_switch, u19, u22) = (uniform(rng), uniform(rng), uniform(rng));
            if u_switch < e.lineage_switch.eval(&ctx) {
                self.attrs.cd19_negative = true;
                self.attrs.cd22 = Cd22::Negative;
                self.note(t, Note::Escaped(Escape::Lineage));
            } else {
                if u19 < e.cd19_at_relapse.eval(&ctx) && !self.attrs.cd19_negative {
                    self.attrs.cd19_negative = true;
                    self.note(t, Note::Escaped(Escape::Cd19));
                }
                if u22 < e.cd22_at_relapse.eval(&ctx) && self.attrs.cd22 != Cd22::Negative {
                    self.attrs.cd22 = Cd22::Negative;
                    self.note(t, Note::Escaped(Escape::Cd22));
                }
            }
        }
        if self.out.relapses == 1 {
            self.out.first_relapse_cd19_negative = self.attrs.cd19_negative;
            self.out.first_relapse_time = Some(t);
        }
        let pop = &self.model.population;
        let rng = self.streams.get(Process::Disease.slot());
        let (u_burden, u_cns, u_emd) = (uniform(rng), uniform(rng), uniform(rng));
        self.attrs.burden = Burden::ALL[pop.relapse_burden.pick(u_burden)];
        self.attrs.cns = u_cns < pop.relapse_cns;
        self.attrs.extramedullary = u_emd < pop.relapse_extramedullary;
        self.note(
            t,
            Note::RelapseAt {
                burden: self.attrs.burden,
                cns: self.attrs.cns,
                extramedullary: self.attrs.extramedullary,
            },
        );
        self.remission = None;
        self.stage = Stage::Between;
        self.start_line(t);
    }

    fn apheresis(&mut self, t: Days) {
        let (therapy, _) = self.current_car_t();
        let c = self.car_t(therapy);
        // Three draws in a fixed order: collection, failure, manufacturing time.
        let rng = self.streams.get(Process::Manufacturing(therapy).slot());
        let collected = bernoulli(rng, c.apheresis_success);
        let failed = bernoulli(rng, c.manufacturing_failure);
        let made = c.manufacturing.sample(rng);
        self.charge(t, &c.costs.apheresis);
        if !collected {
            self.note(t, Note::ApheresisFailed);
            return self.line_failed(t, None);
        }
        if let Some(d) = made {
            self.at(t, d.get(), Track::Care, Event::ManufacturingDone { failed });
        }
        let rng = self.streams.get(Process::Waiting(therapy).slot());
        if let Some(d) = c.waiting_dropout.sample(rng) {
            self.at(t, d.get(), Track::Care, Event::WaitingDropout);
        }
        // Bridging: the first eligible bridge of the line, given while the product is made.
        let line = &self.strategy.lines[self.current_line];
        for b in &line.bridge {
            if self.eligible(b.therapy, &b.when, t).is_ok() {
                self.mark_given(b.therapy);
                self.stage = Stage::CarT {
                    therapy,
                    bridge: Some(b.therapy),
                };
                self.note(t, Note::Bridge { therapy: b.therapy });
                let course = self.course(b.therapy);
                self.charge(t, &course.cost_per_cycle);
                self.schedule_toxicities(t, b.therapy, &course.toxicities);
                break;
            }
        }
    }

    fn manufacturing_done(&mut self, t: Days, failed: bool) {
        let (therapy, _) = self.current_car_t();
        if failed {
            self.out.manufacturing_failed = true;
            self.queue.cancel(Track::Care);
            self.note(t, Note::NoResponse { therapy });
            self.line_failed(t, None);
        } else {
            let c = self.car_t(therapy);
            self.charge(t, &c.costs.lymphodepletion);
            self.at(t, c.lymphodepletion_days, Track::Care, Event::Infusion);
        }
    }

    fn waiting_dropout(&mut self, t: Days) {
        let (therapy, _) = self.current_car_t();
        let c = self.car_t(therapy);
        self.queue.cancel(Track::Care);
        let died = bernoulli(
            self.streams.get(Process::Waiting(therapy).slot()),
            c.dropout_death_fraction,
        );
        if died {
            self.out.died_waiting = true;
            self.at_time(t, Track::Fixed, Event::Death(Cause::WaitingForCarT));
        } else {
            self.note(t, Note::BecameIneligible);
            self.line_failed(t, None);
        }
    }

    fn infusion(&mut self, t: Days) {
        let (therapy, bridge) = self.current_car_t();
        // The wait is over: the pending dropout no longer applies.
        self.queue.cancel(Track::Care);
        self.out.car_t_infused = true;
        self.out.infusion_time.get_or_insert(t);
        if let Some(b) = bridge {
            // A bridge that worked brings the burden at infusion down to MRD level, which
            // lowers CRS/ICANS and raises CAR-T response (evidence B5, F4, F16).
            let course = self.course(b);
            let p = self.course_response(t, b, course);
            let responded = bernoulli(self.streams.get(Process::Response(b).slot()), p);
            if responded {
                self.attrs.burden = Burden::MrdOnly;
            }
            self.note(
                t,
                Note::BridgeResponse {
                    therapy: b,
                    responded,
                },
            );
        }
        let c = self.car_t(therapy);
        self.charge(t, &c.costs.product);
        self.charge(t, &c.costs.infusion);
        self.schedule_toxicities(t, therapy, &c.toxicities);
        self.at(t, c.assessment_days, Track::Care, Event::ResponseAssessment);
    }

    fn car_t_assessment(&mut self, t: Days) {
        let (therapy, _) = self.current_car_t();
        let c = self.car_t(therapy);
        let p = modified(c.response.eval(&self.ctx(t)), &c.odds_ratios, &self.attrs);
        if bernoulli(self.streams.get(Process::Response(therapy).slot()), p) {
            self.stage = Stage::Remission;
            self.enter_remission(t, therapy, c.mrd_negative, c.mrd_positive_relapse_hr);
        } else {
            self.note(t, Note::NoResponse { therapy });
            self.line_failed(t, Some(therapy));
        }
    }

    fn enter_supportive(&mut self, t: Days) {
        if self.out.lines == 0 {
            // No therapy could be given at all: a treatment failure for EFS.
            self.efs_event(Days::ZERO);
        }
        self.note(t, Note::Supportive);
        self.stage = Stage::Supportive;
        self.enter(t, Health::Relapse);
        let sid = self.strategy.supportive;
        let TherapyKind::Supportive(s) = &self.model.therapies[sid].kind else {
            unreachable!("supportive therapy is supportive care")
        };
        self.queue.cancel(Track::Disease);
        if let Some(d) = s
            .survival
            .sample(self.streams.get(Process::Survival(sid).slot()))
        {
            self.at(t, d.get(), Track::Disease, Event::Death(Cause::Disease));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The labels name the `deaths_*` columns of `summary.csv`, and the toxic causes make up
    /// its `toxic_death_rate`: the five toxicities of treatment, not transplant-related
    /// mortality (reported on its own) nor waiting, background or leukemia deaths. Would fail
    /// if a label changed or the toxic set grew or shrank.
    #[test]
    fn cause_labels_and_toxic_causes() {
        let labels = Cause::ALL.map(Cause::label);
        assert_eq!(
            labels,
            [
                "disease",
                "background",
                "waiting_for_car_t",
                "transplant_related",
                "crs",
                "icans",
                "sos",
                "infection",
                "gvhd",
            ]
        );
        let toxic: Vec<Cause> = Cause::ALL.into_iter().filter(|c| c.is_toxic()).collect();
        assert_eq!(
            toxic,
            [
                Cause::Crs,
                Cause::Icans,
                Cause::Sos,
                Cause::Infection,
                Cause::Gvhd
            ]
        );
    }

    fn adult() -> Model {
        crate::scenario::adult_for_tests().model
    }

    /// Background death of (`run`, `patient`, `age`) in a fresh workspace.
    fn fresh_background(model: &Model, run: RunKey, patient: u64, age: f64) -> f64 {
        let mut ws = Workspace::new(model);
        ws.streams.reset(run, patient);
        ws.background_death_days(model, run, patient, age)
    }

    /// The cached background death is reused only for the same run, patient and age: after
    /// another run, patient or age, a workspace gives what a fresh one gives. Would fail if a
    /// part of the key were left out of the comparison or compared the wrong way.
    #[test]
    fn background_death_cache_is_keyed_by_run_patient_and_age() {
        let m = adult();
        let (a, b) = (RunKey::new(1), RunKey::new(2));
        // Each case differs from the one before in one part of the key, or in none (a hit).
        let cases = [
            (a, 0, 40.0),
            (b, 0, 40.0),
            (b, 1, 40.0),
            (b, 1, 60.0),
            (b, 1, 60.0),
            (a, 1, 60.0),
        ];
        let mut ws = Workspace::new(&m);
        let mut values = Vec::new();
        for (run, patient, age) in cases {
            ws.streams.reset(run, patient);
            let got = ws.background_death_days(&m, run, patient, age);
            let want = fresh_background(&m, run, patient, age);
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "patient {patient} at age {age}"
            );
            values.push(got);
        }
        // The cases would tell a stale value apart: consecutive distinct keys give distinct days.
        for (i, w) in values.windows(2).enumerate() {
            assert!(
                i == 3 || w[0] != w[1],
                "cases {i} and {} give {}",
                i + 1,
                w[0]
            );
        }
    }

    /// A workspace whose streams were not told which processes are drawn gives the same
    /// outcomes, seeding the streams on first use and counting them: the count reports a
    /// [`Model::drawn_slots`] that misses a process. Would fail if the count were not reported.
    #[test]
    fn undeclared_streams_are_seeded_lazily_and_counted() {
        let m = adult();
        let run = RunKey::new(3);
        let mut declared = Workspace::new(&m);
        let mut lazy = Workspace {
            streams: Streams::new(m.process_keys(), &[]),
            ..Workspace::new(&m)
        };
        for patient in 0..20 {
            for s in 0..m.strategies.len() {
                let attrs = declared.attributes(&m, run, patient);
                assert_eq!(lazy.attributes(&m, run, patient), attrs);
                let want = simulate(&m, s, run, patient, &attrs, &mut declared, &mut ());
                let got = simulate(&m, s, run, patient, &attrs, &mut lazy, &mut ());
                assert_eq!(got, want, "patient {patient}, strategy {s}");
            }
        }
        assert_eq!(declared.lazy_stream_seeds(), 0);
        assert!(
            lazy.lazy_stream_seeds() >= 20,
            "{}",
            lazy.lazy_stream_seeds()
        );
    }
}
