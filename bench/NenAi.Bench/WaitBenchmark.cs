using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Waiting;

namespace NenAi.Bench
{
    /// <summary>
    /// Rows 3 and 7: runs that finish at random times, waited for by the core's RunWaiter (row 3) and by
    /// `$ids | Wait-NenRun` in the hosted engine (row 7). Measured: GETs per run per poll interval, and the delay
    /// from a run's end to its report.
    /// </summary>
    public static class WaitBenchmark
    {
        private const int Concurrency = 32; // 5,000 runs every 5 s at 20 ms a GET needs more than 16 at once

        private static int Runs(BenchSettings s) => s.Int("--wait-runs", s.Quick ? 1_000 : 5_000);
        private static double PollSec(BenchSettings s) => s.Quick ? 2 : 5;

        public static async Task CoreAsync(BenchSettings settings, EmulatorProcess emulator, NenApiClient client)
        {
            double poll = PollSec(settings);
            Report.Line($"\n3. Waiting, core: {Runs(settings):N0} runs finishing at random over {settings.WaitSpreadSec} s, poll interval {poll} s, {settings.LatencyMs} ms latency, {Concurrency} at once");
            List<string> ids = await StartRunsAsync(settings, emulator, client);
            var reportedAt = new Dictionary<string, DateTimeOffset>(StringComparer.OrdinalIgnoreCase);
            var start = DateTimeOffset.UtcNow;
            using (var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromSeconds(poll), MaxConcurrency = Concurrency }))
                await foreach (var o in waiter.WaitAllAsync(ids)) reportedAt[o.MessageId] = DateTimeOffset.UtcNow;
            await PrintAsync("3.", emulator, ids, reportedAt, start, DateTimeOffset.UtcNow - start, poll);
        }

        public static async Task HostedAsync(BenchSettings settings, EmulatorProcess emulator, NenApiClient client)
        {
            double poll = PollSec(settings);
            Report.Line($"\n7. Waiting, hosted: `$ids | Wait-NenRun -PollIntervalSec {poll} -ThrottleLimit {Concurrency}` on {Runs(settings):N0} runs finishing at random over {settings.WaitSpreadSec} s, {settings.LatencyMs} ms latency");
            using HostedEngine engine = settings.Engine(emulator);
            List<string> ids = await StartRunsAsync(settings, emulator, client);
            var reportedAt = new ConcurrentDictionary<string, DateTimeOffset>(StringComparer.OrdinalIgnoreCase);
            var start = DateTimeOffset.UtcNow;
            HostedRun run = (await engine.RunAsync("$ids | Wait-NenRun -PollIntervalSec $poll -ThrottleLimit $limit",
                new Dictionary<string, object?> { ["ids"] = ids, ["poll"] = poll, ["limit"] = Concurrency },
                o => reportedAt[(string)o.Properties["MessageId"].Value] = DateTimeOffset.UtcNow)).ThrowIfFailed("Wait-NenRun", ids.Count);
            await PrintAsync("7.", emulator, ids, reportedAt, start, run.Elapsed, poll);
        }

        /// <summary>Starts the runs (no latency, not measured) and then turns the latency on for the wait.</summary>
        private static async Task<List<string>> StartRunsAsync(BenchSettings settings, EmulatorProcess emulator, NenApiClient client)
        {
            await emulator.ResetAsync();
            await emulator.SetFaultsAsync(new { latencyMs = 0 });
            var ids = new List<string>();
            using (var submitter = new BatchSubmitter(client, 32))
                await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, Runs(settings)).Select(_ => new RunRequest(BenchSettings.WaitWorkflow)))) ids.Add(o.Run!.MessageId);
            await emulator.SetFaultsAsync(new { latencyMs = settings.LatencyMs });
            return ids;
        }

        private static async Task PrintAsync(string row, EmulatorProcess emulator, List<string> ids, IReadOnlyDictionary<string, DateTimeOffset> reportedAt, DateTimeOffset start, TimeSpan elapsed, double poll)
        {
            WaitFigures f = WaitFigures.From(await emulator.LedgerAsync(), ids, reportedAt, start, poll);
            Report.Line($"  absolute: {f.TotalGets:N0} GETs for {ids.Count:N0} runs in {elapsed.TotalSeconds:0.0} s; report delay median {f.MedianDelay:0.00} s, p95 {f.P95Delay:0.00} s; max GETs/run/interval {f.MaxGetsPerInterval:0.00}");
            Report.Ratio($"{row} GETs per run per poll interval (max)", f.MaxGetsPerInterval, 1.0, false, $"mean {f.MeanGetsPerInterval:0.00}");
            Report.Ratio($"{row} median report delay / poll interval", f.MedianDelay / poll, 1.0, false, $"{f.MedianDelay:0.00} s vs {poll} s");
        }
    }
}
