using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;

namespace NenAi.Bench
{
    /// <summary>
    /// Row 8: the 2,000-row Start-NenRun batch of row 5 (same latency, same -ThrottleLimit) with its progress bar
    /// shown (the default) and with -NoProgress, interleaved, best round each. The engine here has no console to
    /// draw on, so "shown" is what a host receives: every record the cmdlet writes reaches the Progress stream.
    /// </summary>
    public static class ProgressBenchmark
    {
        public static async Task RunAsync(BenchSettings settings, EmulatorProcess emulator)
        {
            int n = settings.Int("--progress-rows", 2_000);
            int rounds = settings.Int("--rounds", settings.Quick ? 3 : 5);
            Report.Line($"\n8. Progress: `$rows | Start-NenRun -ThrottleLimit 16` on {n:N0} rows, progress shown vs -NoProgress, {settings.LatencyMs} ms latency, best of {rounds} interleaved rounds");
            var source = new CsvLikeRows(n, 6);
            List<PSObject> rows = Enumerable.Range(0, n).Select(source.Row).ToList();
            using HostedEngine engine = settings.Engine(emulator);
            await emulator.ResetAsync();
            await emulator.SetFaultsAsync(new { latencyMs = settings.LatencyMs });

            async Task<HostedRun> MeasureRows(bool progress, int count) =>
                (await engine.RunAsync("$rows | Start-NenRun -WorkflowId $wf -ThrottleLimit 16 -NoProgress:$quiet",
                    new Dictionary<string, object?> { ["rows"] = rows.Take(count).ToList(), ["wf"] = BenchSettings.Workflow, ["quiet"] = !progress }))
                    .ThrowIfFailed("Start-NenRun", count);
            Task<HostedRun> Measure(bool progress) => MeasureRows(progress, n);

            await MeasureRows(true, 200); await MeasureRows(false, 200); // warm-up
            var shown = new List<HostedRun>();
            var quiet = new List<HostedRun>();
            for (int round = 0; round < rounds; round++)
            {
                await emulator.ResetAsync(); await emulator.SetFaultsAsync(new { latencyMs = settings.LatencyMs });
                if (round % 2 == 0) { shown.Add(await Measure(true)); quiet.Add(await Measure(false)); }
                else { quiet.Add(await Measure(false)); shown.Add(await Measure(true)); }
            }
            if (quiet.Any(r => r.ProgressRecords != 0)) throw new InvalidOperationException("-NoProgress wrote progress records");
            double rate(HostedRun r) => n / r.Elapsed.TotalSeconds;
            double bestShown = shown.Max(rate), bestQuiet = quiet.Max(rate);
            Report.Line($"  absolute (runs/s, each round): progress shown {string.Join(" / ", shown.Select(r => rate(r).ToString("0")))}; -NoProgress {string.Join(" / ", quiet.Select(r => rate(r).ToString("0")))}; progress records per batch {string.Join(" / ", shown.Select(r => r.ProgressRecords))}");
            Report.Ratio("8. progress shown / -NoProgress", bestShown / bestQuiet, 0.97, true, $"{bestShown:0} vs {bestQuiet:0} runs/s");
        }
    }
}
