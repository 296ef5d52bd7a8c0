using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;

namespace NenAi.Bench
{
    /// <summary>
    /// How well a wait went, from the emulator's ledger (when each run ended, GETs per run) and when each run was
    /// reported: GETs per run per poll interval, and the delay from a run's end to its report.
    /// </summary>
    public sealed class WaitFigures
    {
        public int TotalGets { get; private init; }
        public double MedianDelay { get; private init; }
        public double P95Delay { get; private init; }
        public double MaxGetsPerInterval { get; private init; }
        public double MeanGetsPerInterval { get; private init; }

        public static WaitFigures From(JsonObject ledger, IReadOnlyCollection<string> ids, IReadOnlyDictionary<string, DateTimeOffset> reportedAt, DateTimeOffset start, double pollSec)
        {
            var missing = ids.Where(id => !reportedAt.ContainsKey(id)).ToList();
            if (missing.Count > 0) throw new InvalidOperationException($"{missing.Count} run(s) were never reported, e.g. {missing[0]}");
            var endsAt = ledger["runs"]!.AsArray().ToDictionary(r => r!["messageId"]!.GetValue<string>(), r => r!["endsAt"]!.GetValue<DateTimeOffset>(), StringComparer.OrdinalIgnoreCase);
            var gets = ledger["getsByRun"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<int>(), StringComparer.OrdinalIgnoreCase);
            var delays = ids.Select(id => (reportedAt[id] - (endsAt[id] > start ? endsAt[id] : start)).TotalSeconds).OrderBy(d => d).ToList();
            // Allowed polls for a run: one at the start plus one per interval until it was reported.
            var perInterval = ids.Select(id => gets.GetValueOrDefault(id) / (1 + Math.Floor((reportedAt[id] - start).TotalSeconds / pollSec))).ToList();
            return new WaitFigures
            {
                TotalGets = ids.Sum(id => gets.GetValueOrDefault(id)),
                MedianDelay = delays[delays.Count / 2],
                P95Delay = delays[(int)(delays.Count * 0.95)],
                MaxGetsPerInterval = perInterval.Max(),
                MeanGetsPerInterval = perInterval.Average(),
            };
        }
    }
}
