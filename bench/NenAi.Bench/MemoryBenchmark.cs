using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Rows;

namespace NenAi.Bench
{
    /// <summary>
    /// Rows 2 and 6: memory while a long CSV streams through. Row 2 is the core (a CSV file read line by line, mapped
    /// and submitted); row 6 is `$rows | Start-NenRun | Out-Null` in the hosted engine, run in a process of its own
    /// so nothing another benchmark left behind counts, with what the process held after Import-Module as its baseline:
    /// the managed heap after a full collection (what the module holds) and the working set with a fixed gen0 budget.
    /// </summary>
    public static class MemoryBenchmark
    {
        private const int Columns = 12;

        private static int[] Checkpoints(BenchSettings settings) => settings.Quick ? new[] { 5_000, 10_000, 20_000 } : new[] { 10_000, 50_000, 100_000 };

        public static async Task CoreAsync(BenchSettings settings, EmulatorProcess emulator, NenApiClient client)
        {
            int[] checkpoints = Checkpoints(settings);
            int rows = checkpoints[^1];
            Report.Line($"\n2. Memory, core: {rows:N0}-row CSV with {Columns} columns streamed through row mapping and the submitter (concurrency 16, no injected latency)");
            string csv = Path.Combine(Path.GetTempPath(), $"nenai-bench-{Guid.NewGuid():N}.csv");
            var source = new CsvLikeRows(rows, Columns);
            using (var w = new StreamWriter(csv))
            {
                w.WriteLine(string.Join(",", source.Cells(0).Select(c => c.Key)));
                for (int r = 0; r < rows; r++) w.WriteLine(string.Join(",", source.Cells(r).Select(c => c.Value)));
            }
            await emulator.ResetAsync();
            await emulator.SetFaultsAsync(new { latencyMs = 0 });

            var factory = new RunRequestFactory(new RowMapper(), keyed: true);
            IEnumerable<RunRequest> Rows()
            {
                using var reader = new StreamReader(csv);
                string[] header = reader.ReadLine()!.Split(',');
                string? line;
                while ((line = reader.ReadLine()) != null)
                {
                    string[] cells = line.Split(',');
                    var row = new List<KeyValuePair<string, object?>>(header.Length);
                    for (int i = 0; i < header.Length; i++) row.Add(new(header[i], cells[i]));
                    yield return factory.Create(BenchSettings.Workflow, row, null, null);
                }
            }
            var peaks = new List<(int Rows, long Peak)>();
            int done = 0, next = 0;
            var sw = Stopwatch.StartNew();
            long baseline;
            await using (var memory = new PeakWorkingSet())
            {
                baseline = memory.Baseline;
                using var submitter = new BatchSubmitter(client, 16);
                await foreach (var o in submitter.SubmitAllAsync(Rows()))
                {
                    if (!o.Succeeded) throw new InvalidOperationException("memory run: a row failed: " + o.Error?.Message);
                    done++;
                    if (next < checkpoints.Length && done == checkpoints[next]) { peaks.Add((done, memory.Peak)); next++; }
                }
            }
            File.Delete(csv);
            Report.Line($"  absolute: working set before {PeakWorkingSet.MB(baseline):0.0} MB; peak at " + string.Join(", ", peaks.Select(p => $"{p.Rows:N0} rows {PeakWorkingSet.MB(p.Peak):0.0} MB")) + $"; {done / sw.Elapsed.TotalSeconds:0} rows/s");
            Report.Ratio($"2. peak at {peaks[^1].Rows:N0} rows / 100 MB budget", PeakWorkingSet.MB(peaks[^1].Peak) / 100.0, 1.0, false, $"{PeakWorkingSet.MB(peaks[^1].Peak):0.0} MB");
            Report.Ratio($"2. peak {peaks[^1].Rows / 1000}k / {peaks[0].Rows / 1000}k rows (growth)", (double)peaks[^1].Peak / peaks[0].Peak, 1.15, false, "flat means ≈ 1");
        }

        /// <summary>
        /// The gen0 budget row 6's process runs with. The GC sizes gen0 from the L3 cache when left alone (a few MB
        /// here, hundreds of MB on a server CPU with a 300 MiB L3), and the working set follows it, so the working-set
        /// figure is taken with a fixed budget; what the module holds is the managed heap after a full collection.
        /// </summary>
        public const string Gen0Budget = "0x1000000"; // 16 MiB

        public static async Task HostedAsync(BenchSettings settings, EmulatorProcess emulator)
        {
            int[] checkpoints = Checkpoints(settings);
            int rows = checkpoints[^1];
            Report.Line($"\n6. Memory, hosted: {rows:N0} rows of {Columns} columns (PSObjects with string properties, streamed as Import-Csv streams) through `Start-NenRun -ThrottleLimit 16 | Out-Null`, no injected latency");
            await emulator.ResetAsync();
            await emulator.SetFaultsAsync(new { latencyMs = 0 });
            using HostedEngine engine = settings.Engine(emulator);

            var peaks = new List<(int Rows, long Peak, long Heap)>();
            int next = 0;
            long baseline, heapBaseline;
            HostedRun run;
            await using (var memory = new PeakWorkingSet()) // the baseline: the working set after Import-Module
            {
                baseline = memory.Baseline;
                heapBaseline = GC.GetTotalMemory(forceFullCollection: true);
                var source = new CsvLikeRows(rows, Columns, pulled =>
                {
                    // On the pipeline thread, between two rows: what is still reachable is what the batch holds.
                    if (next < checkpoints.Length && pulled == checkpoints[next]) { peaks.Add((pulled, memory.Peak, GC.GetTotalMemory(forceFullCollection: true))); next++; }
                });
                run = (await engine.RunAsync("$rows | Start-NenRun -WorkflowId $wf -ThrottleLimit 16 | Out-Null",
                    new Dictionary<string, object?> { ["rows"] = source, ["wf"] = BenchSettings.Workflow })).ThrowIfFailed("Start-NenRun", 0);
            }
            JsonObject ledger = await emulator.LedgerAsync(runs: false);
            int accepted = ledger["accepted"]!.GetValue<int>();
            if (accepted != rows) throw new InvalidOperationException($"hosted memory run: the emulator accepted {accepted} runs of {rows}");

            string gen0 = Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is { } fixedBudget ? $"gen0 budget fixed at {PeakWorkingSet.MB(Convert.ToInt64(fixedBudget, 16)):0} MiB" : "gen0 budget left to the GC";
            double growth(long peak) => PeakWorkingSet.MB(peak - baseline);
            double heapGrowth(long heap) => PeakWorkingSet.MB(heap - heapBaseline);
            Report.Line($"  absolute: managed heap after a full collection: after import {PeakWorkingSet.MB(heapBaseline):0.0} MB; at " + string.Join(", ", peaks.Select(p => $"{p.Rows:N0} rows {PeakWorkingSet.MB(p.Heap):0.0} MB (+{heapGrowth(p.Heap):0.0})")));
            Report.Line($"  absolute: working set ({gen0}): after import {PeakWorkingSet.MB(baseline):0.0} MB; peak at " + string.Join(", ", peaks.Select(p => $"{p.Rows:N0} rows {PeakWorkingSet.MB(p.Peak):0.0} MB (+{growth(p.Peak):0.0})")) + $"; {rows / run.Elapsed.TotalSeconds:0} rows/s; {accepted:N0} accepted");
            Report.Ratio($"6. heap held at {rows / 1000}k rows / 50 MB budget", heapGrowth(peaks[^1].Heap) / 50.0, 1.0, false, $"+{heapGrowth(peaks[^1].Heap):0.0} MB after a full GC: what the module holds");
            // The batch keeps one 128-bit digest per row (to refuse a row given twice), in a HashSet: ~28 bytes a row.
            double perRow = (double)(peaks[^1].Heap - peaks[0].Heap) / (peaks[^1].Rows - peaks[0].Rows);
            Report.Ratio($"6. heap held per row, {peaks[0].Rows / 1000}k to {peaks[^1].Rows / 1000}k rows / 64 B", perRow / 64.0, 1.0, false, $"{perRow:0} B a row: the duplicate-row digests, nothing of the rows themselves");
            Report.Ratio($"6. working set at {rows / 1000}k rows / 50 MB budget", growth(peaks[^1].Peak) / 50.0, 1.0, false, $"+{growth(peaks[^1].Peak):0.0} MB over {PeakWorkingSet.MB(baseline):0.0} MB, {gen0}");
            Report.Ratio($"6. working set {peaks[^1].Rows / 1000}k / {peaks[0].Rows / 1000}k rows (growth)", (double)peaks[^1].Peak / peaks[0].Peak, 1.10, false, "flat means ≈ 1");
        }

        /// <summary>Row 6 in a fresh process of this program, so its baseline is clean; its lines are shown as they come.</summary>
        public static bool HostedInChildProcess(string[] args) => InChildProcess(args, "hosted-memory");

        /// <summary>The section <paramref name="only"/> in a fresh process of this program (gen0 budget fixed), its lines shown as they come.</summary>
        public static bool InChildProcess(string[] args, string only)
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = true };
            psi.Environment["DOTNET_GCgen0size"] = Gen0Budget; // the same working-set figure on every machine
            string self = typeof(MemoryBenchmark).Assembly.Location;
            if (!Path.GetFileNameWithoutExtension(Environment.ProcessPath!).Equals("NenAi.Bench", StringComparison.OrdinalIgnoreCase)) psi.ArgumentList.Add(self);
            foreach (string a in args) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add("--only");
            psi.ArgumentList.Add(only);
            psi.ArgumentList.Add("--child");
            using Process child = Process.Start(psi)!;
            string? line;
            while ((line = child.StandardOutput.ReadLine()) != null) Report.Line(line);
            child.WaitForExit();
            return child.ExitCode == 0;
        }
    }
}
