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

use crate::model::{
    Burden, CarT, Cd22, CycleTherapy, Horizon, MAX_THERAPIES, Model, Process, Strategy, Target,
    TherapyId, TherapyKind,
};
use crate::patient::Attributes;
use crate::queue::{EventQueue, Phase, Track};
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
    /// Transplant-related mortality.
    TransplantRelated = 3,
}

impl Cause {
    /// Number of causes.
    pub const COUNT: usize = 4;
    /// All causes, in index order.
    pub const ALL: [Cause; Cause::COUNT] = [
        Cause::Disease,
        Cause::Background,
        Cause::WaitingForCarT,
        Cause::TransplantRelated,
    ];

    /// snake_case label for outputs.
    pub fn label(self) -> &'static str {
        match self {
            Cause::Disease => "disease",
            Cause::Background => "background",
            Cause::WaitingForCarT => "waiting_for_car_t",
            Cause::TransplantRelated => "transplant_related",
        }
    }
}

/// Everything that can happen to a patient at a scheduled time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// Start the next line of the strategy (first eligible candidate), or supportive care.
    StartLine,
    /// End of treatment cycle `cycle` (from 1) of the current cycle-based therapy.
    CycleEnd {
        /// Cycle number, from 1.
        cycle: u32,
    },
    /// CAR-T: T cells collected, manufacturing starts.
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
            | Event::Transplant => Phase::Care,
        }
    }
}

/// Why a candidate therapy was passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    /// The leukemia lacks the target antigen.
    Antigen,
    /// Outside the therapy's age window.
    Age,
}

/// Something that happened while handling an event, reported to an [`Observer`] for traces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Note {
    /// A line of therapy started.
    Started {
        /// Therapy.
        therapy: TherapyId,
        /// Line number, from 1.
        line: u8,
    },
    /// A candidate was passed over.
    Skipped {
        /// Therapy.
        therapy: TherapyId,
        /// Why.
        reason: Ineligible,
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
    /// Transplant scheduled in remission.
    TransplantPlanned {
        /// When.
        at: Days,
    },
    /// Remission not consolidated: why.
    TransplantNotPlanned {
        /// Patient not eligible (donor, fitness, age, transplants so far).
        eligible: bool,
    },
    /// CAR-T dropout: became ineligible (not died).
    BecameIneligible,
    /// Transplant-related death decided, at this time.
    TransplantDeathAt(Days),
    /// Relapse with this burden.
    RelapseBurden(Burden),
    /// Supportive care started.
    Supportive,
}

/// Receives every processed event and note; for traces. The engine calls it on the hot path,
/// so the no-op `()` observer compiles to nothing.
pub trait Observer {
    /// An event was popped and is being handled.
    fn event(&mut self, _time: Days, _event: Event) {}
    /// Something happened while handling it.
    fn note(&mut self, _time: Days, _note: Note) {}
}

impl Observer for () {}

/// What one patient's trajectory under one strategy produced: a flat record.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// Any CAR-T was started (apheresis intended).
    pub car_t_intended: bool,
    /// CAR-T cells were infused.
    pub car_t_infused: bool,
    /// A CAR-T product failed manufacturing.
    pub manufacturing_failed: bool,
    /// Died between apheresis and infusion.
    pub died_waiting: bool,
    /// Transplants during the strategy.
    pub transplants: u8,
    /// Relapses during the strategy.
    pub relapses: u8,
    /// Lines of therapy given.
    pub lines: u8,
}

/// Reusable per-thread memory: the event queue and the stream cache. Allocated once per chunk
/// worker, never per patient.
#[derive(Debug, Clone)]
pub struct Workspace {
    queue: EventQueue<Event>,
    streams: Streams,
}

impl Workspace {
    /// A workspace for `model`'s streams.
    pub fn new(model: &Model) -> Workspace {
        Workspace {
            queue: EventQueue::new(),
            streams: Streams::new(model.process_keys()),
        }
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
    /// A cycle-based therapy is running.
    Cycles {
        therapy: TherapyId,
        /// Induction cycle after which the patient responds; 0 = no response.
        responds_at: u32,
        /// Consolidation cycles still to give once in remission.
        consolidation_left: u32,
        in_remission: bool,
    },
    /// In the CAR-T pipeline, from the decision to the response assessment.
    CarT { therapy: TherapyId },
    /// In remission after a therapy, nothing running.
    Remission,
    /// After allogeneic HCT.
    PostTransplant,
    /// Best supportive care.
    Supportive,
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
    ws.queue.clear();
    ws.streams.reset(run, patient);
    let sim = Sim {
        model,
        strategy: &model.strategies[strategy],
        attrs: *attrs,
        queue: &mut ws.queue,
        streams: &mut ws.streams,
        obs,
        stage: Stage::Between,
        next_line: 0,
        transplants: u32::from(attrs.prior_hct),
        exposures: [0; MAX_THERAPIES],
        out: Outcome {
            end: Days::ZERO,
            death: None,
            efs: Days::ZERO,
            efs_event: false,
            first_response: false,
            first_mrd_negative: false,
            car_t_intended: false,
            car_t_infused: false,
            manufacturing_failed: false,
            died_waiting: false,
            transplants: 0,
            relapses: 0,
            lines: 0,
        },
    };
    sim.run()
}

struct Sim<'a, O: Observer> {
    model: &'a Model,
    strategy: &'a Strategy,
    /// Current attributes: burden and antigen status change along the way.
    attrs: Attributes,
    queue: &'a mut EventQueue<Event>,
    streams: &'a mut Streams,
    obs: &'a mut O,
    stage: Stage,
    next_line: usize,
    /// Allogeneic transplants in the patient's life (a prior HCT counts).
    transplants: u32,
    /// Courses received, by therapy.
    exposures: [u8; MAX_THERAPIES],
    out: Outcome,
}

/// Whether the loop goes on after an event.
enum Flow {
    Continue,
    Stop,
}

/// A patient needing more events than this is a bug in the pathway logic (a cycle of
/// zero-time events), not a property of any scenario.
const MAX_EVENTS: u32 = 100_000;

impl<'a, O: Observer> Sim<'a, O> {
    fn run(mut self) -> Outcome {
        self.schedule_start();
        let mut handled = 0u32;
        while let Some(entry) = self.queue.pop() {
            handled += 1;
            assert!(handled < MAX_EVENTS, "runaway event loop");
            self.obs.event(entry.time, entry.event);
            if let Flow::Stop = self.handle(entry.time, entry.event) {
                break;
            }
        }
        if !self.out.efs_event {
            self.out.efs = self.out.end;
        }
        self.out
    }

    fn at(&mut self, t: Days, delay_days: f64, track: Track, event: Event) {
        let delay = Days::new(delay_days).expect("compiled delays are finite");
        self.queue.schedule(t + delay, event.phase(), track, event);
    }

    fn at_time(&mut self, t: Days, track: Track, event: Event) {
        self.queue.schedule(t, event.phase(), track, event);
    }

    fn schedule_start(&mut self) {
        let pop = &self.model.population;
        let s = 1.0 - uniform(self.streams.get(Process::Background.slot()));
        let years = pop
            .background
            .inverse_survival_years(self.attrs.age, s)
            .min(pop.max_age - self.attrs.age);
        self.at(
            Days::ZERO,
            years * DAYS_PER_YEAR,
            Track::Fixed,
            Event::Death(Cause::Background),
        );
        if let Horizon::Days(h) = self.model.horizon {
            self.at(Days::ZERO, h, Track::Fixed, Event::HorizonEnd);
        }
        self.at_time(Days::ZERO, Track::Care, Event::StartLine);
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
            Event::Transplant => self.transplant(t),
            Event::Relapse => self.relapse(t),
            Event::Death(cause) => {
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

    fn age_at(&self, t: Days) -> f64 {
        self.attrs.age + t.years()
    }

    fn eligible(&self, therapy: TherapyId, t: Days) -> Result<(), Ineligible> {
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
        Ok(())
    }

    fn efs_event(&mut self, t: Days) {
        if !self.out.efs_event {
            self.out.efs_event = true;
            self.out.efs = t;
        }
    }

    fn start_next_line(&mut self, t: Days) {
        while let Some(line) = self.strategy.lines.get(self.next_line) {
            self.next_line += 1;
            for &therapy in &line.candidates {
                match self.eligible(therapy, t) {
                    Ok(()) => return self.start_therapy(t, therapy),
                    Err(reason) => self.obs.note(t, Note::Skipped { therapy, reason }),
                }
            }
        }
        self.enter_supportive(t);
    }

    fn start_therapy(&mut self, t: Days, therapy: TherapyId) {
        self.out.lines += 1;
        self.exposures[therapy] = self.exposures[therapy].saturating_add(1);
        self.obs.note(
            t,
            Note::Started {
                therapy,
                line: self.out.lines,
            },
        );
        match &self.model.therapies[therapy].kind {
            TherapyKind::Cycles(c) => {
                // The course's response is decided now, from two draws: whether, and after
                // which induction cycle.
                let rng = self.streams.get(Process::Response(therapy).slot());
                let responds = bernoulli(rng, c.response.get(self.attrs.burden));
                let by_cycle_1 = bernoulli(rng, c.responders_by_cycle_1);
                let responds_at = match (responds, by_cycle_1) {
                    (false, _) => 0,
                    (true, true) => 1,
                    (true, false) => 2.min(c.induction_cycles),
                };
                self.stage = Stage::Cycles {
                    therapy,
                    responds_at,
                    consolidation_left: c.consolidation_cycles,
                    in_remission: false,
                };
                self.at(t, c.cycle_days, Track::Care, Event::CycleEnd { cycle: 1 });
            }
            TherapyKind::CarT(c) => {
                self.out.car_t_intended = true;
                self.stage = Stage::CarT { therapy };
                self.at(t, c.apheresis_days, Track::Care, Event::Apheresis);
            }
            TherapyKind::Hct(_) | TherapyKind::Supportive(_) => {
                unreachable!(
                    "the scenario compiler keeps transplant and supportive care out of lines"
                )
            }
        }
    }

    fn cycle_therapy(&self, therapy: TherapyId) -> &'a CycleTherapy {
        match &self.model.therapies[therapy].kind {
            TherapyKind::Cycles(c) => c,
            _ => unreachable!("cycle events only for cycle therapies"),
        }
    }

    fn car_t(&self, therapy: TherapyId) -> &'a CarT {
        match &self.model.therapies[therapy].kind {
            TherapyKind::CarT(c) => c,
            _ => unreachable!("CAR-T events only for CAR-T therapies"),
        }
    }

    fn current_car_t(&self) -> TherapyId {
        match self.stage {
            Stage::CarT { therapy } => therapy,
            s => unreachable!("CAR-T event in stage {s:?}"),
        }
    }

    fn cycle_end(&mut self, t: Days, cycle: u32) {
        let Stage::Cycles {
            therapy,
            responds_at,
            consolidation_left,
            in_remission,
        } = self.stage
        else {
            unreachable!("cycle end in stage {:?}", self.stage)
        };
        let c = self.cycle_therapy(therapy);
        let next = Event::CycleEnd { cycle: cycle + 1 };
        if in_remission {
            // A consolidation cycle ended.
            let left = consolidation_left - 1;
            if left > 0 {
                self.stage = Stage::Cycles {
                    therapy,
                    responds_at,
                    consolidation_left: left,
                    in_remission,
                };
                self.at(t, c.cycle_days, Track::Care, next);
            } else {
                self.stage = Stage::Remission;
            }
        } else if cycle == responds_at {
            self.stage = if consolidation_left > 0 {
                Stage::Cycles {
                    therapy,
                    responds_at,
                    consolidation_left,
                    in_remission: true,
                }
            } else {
                Stage::Remission
            };
            if consolidation_left > 0 {
                self.at(t, c.cycle_days, Track::Care, next);
            }
            self.enter_remission(t, therapy, c.mrd_negative, c.mrd_positive_relapse_hr);
        } else if cycle >= c.induction_cycles {
            self.obs.note(t, Note::NoResponse { therapy });
            self.line_failed(t);
        } else {
            self.at(t, c.cycle_days, Track::Care, next);
        }
    }

    /// The current line did not work: record first-line failure, go to the next line.
    fn line_failed(&mut self, t: Days) {
        if self.out.lines == 1 {
            // Treatment failure of the first line is an EFS event at time 0 (the ELIANA and
            // TOWER convention: EFS counts induction failure from day 1).
            self.efs_event(Days::ZERO);
        }
        self.stage = Stage::Between;
        self.at_time(t, Track::Care, Event::StartLine);
    }

    fn enter_remission(&mut self, t: Days, therapy: TherapyId, p_mrd_negative: f64, hr: f64) {
        let mrd_negative = bernoulli(
            self.streams.get(Process::Mrd(therapy).slot()),
            p_mrd_negative,
        );
        self.obs.note(
            t,
            Note::Response {
                therapy,
                mrd_negative,
            },
        );
        if self.out.lines == 1 {
            self.out.first_response = true;
            self.out.first_mrd_negative = mrd_negative;
        }
        self.attrs.burden = Burden::MrdOnly;
        let relapse = match &self.model.therapies[therapy].kind {
            TherapyKind::Cycles(c) => &c.relapse,
            TherapyKind::CarT(c) => &c.relapse,
            _ => unreachable!("only lines of therapy induce remission"),
        };
        let hr = if mrd_negative { 1.0 } else { hr };
        let delay = relapse.sample_hr(self.streams.get(Process::Relapse(therapy).slot()), hr);
        self.queue.cancel(Track::Disease);
        if let Some(d) = delay {
            self.at(t, d.get(), Track::Disease, Event::Relapse);
        }
        self.plan_transplant(t, therapy);
    }

    fn plan_transplant(&mut self, t: Days, after: TherapyId) {
        let Some(rule) = &self.strategy.consolidation else {
            return;
        };
        if !rule.after[after] {
            return;
        }
        let TherapyKind::Hct(h) = &self.model.therapies[rule.hct].kind else {
            unreachable!("consolidation therapy is a transplant")
        };
        let eligible = self.attrs.donor_available
            && self.attrs.hct_fit
            && self.age_at(t) <= h.max_age
            && self.transplants < h.max_transplants;
        if !eligible {
            self.obs
                .note(t, Note::TransplantNotPlanned { eligible: false });
            return;
        }
        let rng = self.streams.get(Process::Transplant(rule.hct).slot());
        match h.time_to_transplant.sample(rng) {
            Some(d) => {
                self.obs.note(t, Note::TransplantPlanned { at: t + d });
                self.at(t, d.get(), Track::Care, Event::Transplant);
            }
            None => self
                .obs
                .note(t, Note::TransplantNotPlanned { eligible: true }),
        }
    }

    fn transplant(&mut self, t: Days) {
        let Some(rule) = &self.strategy.consolidation else {
            unreachable!("transplant without a consolidation rule")
        };
        let hct = rule.hct;
        let TherapyKind::Hct(h) = &self.model.therapies[hct].kind else {
            unreachable!("consolidation therapy is a transplant")
        };
        // The transplant replaces what was running and the relapse clock of the remission.
        self.queue.cancel(Track::Care);
        self.queue.cancel(Track::Disease);
        self.transplants += 1;
        self.out.transplants = self.out.transplants.saturating_add(1);
        self.attrs.prior_hct = true;
        self.exposures[hct] = self.exposures[hct].saturating_add(1);
        self.stage = Stage::PostTransplant;
        let rng = self.streams.get(Process::Transplant(hct).slot());
        let trm = bernoulli(rng, h.trm);
        let trm_delay = h.trm_time.sample(rng);
        if let (true, Some(d)) = (trm, trm_delay) {
            // Transplant-related death pre-empts relapse: a patient who will die of the
            // transplant is not also given a relapse time.
            self.obs.note(t, Note::TransplantDeathAt(t + d));
            self.at(
                t,
                d.get(),
                Track::Fixed,
                Event::Death(Cause::TransplantRelated),
            );
        } else if let Some(d) = h
            .relapse
            .sample(self.streams.get(Process::Relapse(hct).slot()))
        {
            self.at(t, d.get(), Track::Disease, Event::Relapse);
        }
    }

    fn relapse(&mut self, t: Days) {
        self.out.relapses = self.out.relapses.saturating_add(1);
        self.efs_event(t);
        // Whatever was planned for the remission (cycles, a transplant) stops.
        self.queue.cancel(Track::Care);
        let u = uniform(self.streams.get(Process::Disease.slot()));
        self.attrs.burden = Burden::ALL[self.model.population.relapse_burden.pick(u)];
        self.obs.note(t, Note::RelapseBurden(self.attrs.burden));
        self.stage = Stage::Between;
        self.at_time(t, Track::Care, Event::StartLine);
    }

    fn apheresis(&mut self, t: Days) {
        let therapy = self.current_car_t();
        let c = self.car_t(therapy);
        let rng = self.streams.get(Process::Manufacturing(therapy).slot());
        let failed = bernoulli(rng, c.manufacturing_failure);
        let made = c.manufacturing.sample(rng);
        if let Some(d) = made {
            self.at(t, d.get(), Track::Care, Event::ManufacturingDone { failed });
        }
        let rng = self.streams.get(Process::Waiting(therapy).slot());
        if let Some(d) = c.waiting_dropout.sample(rng) {
            self.at(t, d.get(), Track::Care, Event::WaitingDropout);
        }
    }

    fn manufacturing_done(&mut self, t: Days, failed: bool) {
        let therapy = self.current_car_t();
        if failed {
            self.out.manufacturing_failed = true;
            self.queue.cancel(Track::Care);
            self.obs.note(t, Note::NoResponse { therapy });
            self.line_failed(t);
        } else {
            let ld = self.car_t(therapy).lymphodepletion_days;
            self.at(t, ld, Track::Care, Event::Infusion);
        }
    }

    fn waiting_dropout(&mut self, t: Days) {
        let therapy = self.current_car_t();
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
            self.obs.note(t, Note::BecameIneligible);
            self.line_failed(t);
        }
    }

    fn infusion(&mut self, t: Days) {
        let therapy = self.current_car_t();
        // The wait is over: the pending dropout no longer applies.
        self.queue.cancel(Track::Care);
        self.out.car_t_infused = true;
        let days = self.car_t(therapy).assessment_days;
        self.at(t, days, Track::Care, Event::ResponseAssessment);
    }

    fn car_t_assessment(&mut self, t: Days) {
        let therapy = self.current_car_t();
        let c = self.car_t(therapy);
        let p = c.response.get(self.attrs.burden);
        if bernoulli(self.streams.get(Process::Response(therapy).slot()), p) {
            self.stage = Stage::Remission;
            self.enter_remission(t, therapy, c.mrd_negative, c.mrd_positive_relapse_hr);
        } else {
            self.obs.note(t, Note::NoResponse { therapy });
            self.line_failed(t);
        }
    }

    fn enter_supportive(&mut self, t: Days) {
        if self.out.lines == 0 {
            // No therapy could be given at all: a treatment failure for EFS.
            self.efs_event(Days::ZERO);
        }
        self.obs.note(t, Note::Supportive);
        self.stage = Stage::Supportive;
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
