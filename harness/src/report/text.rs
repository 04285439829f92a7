//! The words and numbers every text renderer shares: human units, percentages, the one-line
//! descriptions of a measurement's parts, and the two table layouts.

use crate::measure::Interval;
use std::fmt::Write as _;

use crate::measure::{CpuSummary, Measurement};
pub(super) use crate::spec::counted;
use crate::spec::{DisplayDuration, Policy};

pub(super) fn describe_workload(m: &Measurement) -> String {
    let w = &m.workload;
    let mut text = format!(
        "{}, capacity {}, {} messages, payload {}, batch {}, policy {}",
        w.topology, w.capacity, w.messages, w.payload, w.batch, w.policy
    );
    if w.priorities > 1 {
        let _ = write!(text, ", priorities 0-{} uniform", w.priorities - 1);
    }
    if !w.producer_delay.is_zero() {
        let _ = write!(
            text,
            ", producer delay {}",
            DisplayDuration(w.producer_delay)
        );
    }
    if !w.consumer_delay.is_zero() {
        let _ = write!(text, ", consumer delay {}", w.consumer_delay);
    }
    if let Some(r) = w.rate {
        let _ = write!(text, ", rate {}/s", rate(r));
    }
    text
}

/// Offered, shed and timed out, when the policy can shed or time out or something was.
pub(super) fn describe_load(m: &Measurement) -> Option<String> {
    let l = &m.load;
    let w = &m.workload;
    if w.policy == Policy::Block && l.shed == 0 && l.timed_out == 0 {
        return None;
    }
    Some(format!(
        "offered {}; shed {} ({}, {}/s); timed out {} ({}, {}/s)",
        l.offered,
        l.shed,
        percent(l.shed_fraction),
        rate(l.shed_per_s),
        l.timed_out,
        percent(l.timed_out_fraction),
        rate(l.timed_out_per_s)
    ))
}

/// The open-loop target against what was sent and delivered.
pub(super) fn describe_rate(m: &Measurement) -> Option<String> {
    let l = &m.load;
    let target = l.target_rate?;
    Some(format!(
        "target {}/s; offered {}/s; delivered {}/s; kept up: {}",
        rate(target),
        rate(l.send_rate),
        rate(m.throughput.median),
        yes_no(l.kept_up)
    ))
}

pub(super) fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

/// A fraction as a percentage: `12.3%`, `0%`, `<0.1%`.
pub(super) fn percent(fraction: f64) -> String {
    if fraction == 0.0 {
        "0%".to_owned()
    } else if fraction < 0.001 {
        "<0.1%".to_owned()
    } else {
        format!("{:.1}%", fraction * 100.0)
    }
}

/// The fewest clock ticks of CPU time from which the run table derives cores busy and ns/msg.
const MIN_CPU_TICKS: f64 = 10.0;

pub(super) fn describe_cpu(cpu: &CpuSummary, repetitions: usize) -> String {
    if !cpu.available {
        return "not available".to_owned();
    }
    let runs = counted(repetitions as u64, "repetition");
    if cpu.user_s + cpu.sys_s == 0.0 {
        return format!(
            "below the {} resolution of getrusage over {}",
            seconds(cpu.tick_s),
            runs
        );
    }
    // CPU time comes in whole clock ticks; over a short run a rate built on a handful of
    // them would be off by a large factor either way, so it is not shown.
    let ticks = ((cpu.user_s + cpu.sys_s) / cpu.tick_s).round();
    if ticks < MIN_CPU_TICKS {
        return format!(
            "user {} + sys {} over {}: {} of {}, too few for cores busy or ns/msg (run more \
             messages)",
            cpu_time(cpu.user_s),
            cpu_time(cpu.sys_s),
            runs,
            counted(ticks as u64, "tick"),
            seconds(cpu.tick_s)
        );
    }
    let mut text = format!(
        "user {} + sys {} over {}; {:.2} cores busy",
        cpu_time(cpu.user_s),
        cpu_time(cpu.sys_s),
        runs,
        cpu.utilisation
    );
    if let Some(ns) = cpu.ns_per_message {
        let _ = write!(text, "; {ns:.0} ns/msg");
    }
    if let Some(switches) = cpu.switches_per_message {
        let _ = write!(
            text,
            "; {switches:.3} context switches/msg ({} voluntary, {} involuntary)",
            cpu.voluntary_switches, cpu.involuntary_switches
        );
    }
    text
}

/// The ledger's verdict, which covers every run: unlike the per-thread counts, which cover
/// the measured repetitions, it includes the warm-up, and says so; then what each run was
/// checked by.
pub(super) fn describe_verification(m: &Measurement) -> String {
    let w = &m.workload;
    let v = &m.verification;
    let mut text = v.summary();
    if w.warmup > 0 {
        text.push_str(&format!(
            " (over all {}: the {} included)",
            counted((w.warmup + w.repeats) as u64, "run"),
            counted(w.warmup as u64, "warm-up")
        ));
    }
    if !v.checked.is_empty() {
        text.push_str("; checked: ");
        text.push_str(&v.checked);
    }
    text
}

pub(super) fn describe_depth(m: &Measurement) -> String {
    let d = &m.depth;
    if d.samples == 0 {
        return "no samples".to_owned();
    }
    let mut parts = Vec::new();
    for b in d.buckets.iter().filter(|b| b.count > 0) {
        let share = b.count as f64 * 100.0 / d.samples as f64;
        let range = if b.from == b.to {
            b.from.to_string()
        } else {
            format!("{}-{}", b.from, b.to)
        };
        parts.push(format!("{range}: {share:.0}%"));
    }
    format!("{}  ({})", parts.join("  "), counted(d.samples, "sample"))
}

/// CPU time: whole clock ticks, so none is `0`, not `0 ns`.
fn cpu_time(s: f64) -> String {
    if s == 0.0 { "0".to_owned() } else { seconds(s) }
}

/// A rate with a metric suffix: `43.2 M`, `640 k`, `12`.
pub(super) fn rate(v: f64) -> String {
    scaled(v, ["G", "M", "k"]).unwrap_or_else(|| format!("{v:.0}"))
}

/// `v` in the largest of the units for 1e9, 1e6 and 1e3 that it reaches, with two decimals
/// from 1e6 up and one below; `None` below 1e3, which each caller words its own way.
fn scaled(v: f64, units: [&str; 3]) -> Option<String> {
    [(1e9, 2), (1e6, 2), (1e3, 1)]
        .into_iter()
        .zip(units)
        .find(|((scale, _), _)| v >= *scale)
        .map(|((scale, decimals), unit)| format!("{:.*} {unit}", decimals, v / scale))
}

/// A ratio to the baseline as the tables show it: the median of the paired ratios and its
/// interval, `≈` in front when the interval contains 1 (no measurable difference); `base` for
/// the baseline's own cell.
pub(super) fn ratio_text(ratio: Option<Interval>, baseline: bool) -> String {
    match ratio {
        _ if baseline => "base".to_owned(),
        None => "-".to_owned(),
        Some(i) if i.level == 0.0 => format!("{:.2}x", i.median),
        Some(i) => format!(
            "{}{}",
            if i.contains(1.0) { "≈" } else { "" },
            interval_text(i, 2)
        ),
    }
}

/// An interval as `1.02x [0.98-1.05]`, each figure with `decimals` places.
pub(super) fn interval_text(i: Interval, decimals: usize) -> String {
    format!(
        "{:.decimals$}x [{:.decimals$}-{:.decimals$}]",
        i.median, i.low, i.high
    )
}

pub(super) fn seconds(s: f64) -> String {
    nanos((s * 1e9) as u64)
}

pub(super) fn nanos(ns: u64) -> String {
    scaled(ns as f64, ["s", "ms", "us"]).unwrap_or_else(|| format!("{ns} ns"))
}

/// An aligned text table; the first `text_columns` columns are left-aligned, the rest right.
pub(super) fn aligned(head: &[String], body: &[Vec<String>], text_columns: usize) -> String {
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in body {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i < text_columns {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = line(head);
    out.push('\n');
    for row in body {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

/// A Markdown table; the first `text_columns` columns are left-aligned, the rest right.
pub(super) fn markdown_table(head: &[String], body: &[Vec<String>], text_columns: usize) -> String {
    let mut out = format!("| {} |\n", head.join(" | "));
    out.push_str(&format!(
        "|{}\n",
        head.iter()
            .enumerate()
            .map(|(i, _)| {
                if i < text_columns {
                    " --- |"
                } else {
                    " ---: |"
                }
            })
            .collect::<String>()
    ));
    for row in body {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_rates_need_enough_clock_ticks() {
        let tick = CpuSummary {
            user_s: 0.01,
            sys_s: 0.0,
            utilisation: 6.24,
            ns_per_message: Some(1000.0),
            available: true,
            tick_s: 0.01,
            voluntary_switches: 0,
            involuntary_switches: 0,
            switches_per_message: None,
        };
        assert_eq!(
            describe_cpu(&tick, 1),
            "user 10.00 ms + sys 0 over 1 repetition: 1 tick of 10.00 ms, too few for cores \
             busy or ns/msg (run more messages)"
        );
        let enough = CpuSummary {
            user_s: 0.09,
            sys_s: 0.01,
            utilisation: 1.5,
            ns_per_message: Some(250.0),
            voluntary_switches: 30,
            involuntary_switches: 10,
            switches_per_message: Some(0.004),
            ..tick
        };
        assert_eq!(
            describe_cpu(&enough, 5),
            "user 90.00 ms + sys 10.00 ms over 5 repetitions; 1.50 cores busy; 250 ns/msg; \
             0.004 context switches/msg (30 voluntary, 10 involuntary)"
        );
        assert_eq!(
            describe_cpu(
                &CpuSummary {
                    user_s: 0.0,
                    ..tick
                },
                2
            ),
            "below the 10.00 ms resolution of getrusage over 2 repetitions"
        );
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(counted(1u64, "sample"), "1 sample");
        assert_eq!(counted(0u64, "sample"), "0 samples");
        assert_eq!(counted(5u64, "repetition"), "5 repetitions");
    }

    #[test]
    fn human_numbers() {
        assert_eq!(rate(43_210_000.0), "43.21 M");
        assert_eq!(rate(640_400.0), "640.4 k");
        assert_eq!(rate(12.0), "12");
        assert_eq!(nanos(1_500), "1.5 us");
        assert_eq!(nanos(2_500_000), "2.50 ms");
    }
}
