using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.Bench
{
    /// <summary>
    /// Rows 9 and 10: downloads. Row 9 saves the same files of 256 KiB, served with 50 ms latency, three ways at the
    /// same concurrency: `$statuses | Get-NenRunResult -ThrottleLimit 8` in the hosted engine, raw HttpClient streaming
    /// each to a file (the baseline), and `ForEach-Object -Parallel { Invoke-WebRequest -OutFile } -ThrottleLimit 8`
    /// (what a sysadmin writes by hand). Row 10 saves one 2 GiB file through Get-NenRunResult in a process of its own
    /// and takes the peak working set against what that process held after Import-Module. The storage is
    /// tests/fakes/fake_nen.py in its own process (python3), which makes each file as it sends it.
    /// </summary>
    public static class DownloadBenchmark
    {
        private const int Concurrency = 8; // Get-NenRunResult's default -ThrottleLimit
        private const int FileBytes = 256 * 1024;
        private const int LatencyMs = 50;
        private const long BigFileBytes = 2L * 1024 * 1024 * 1024;

        public static async Task ThroughputAsync(BenchSettings settings)
        {
            int files = settings.Int("--download-files", settings.Quick ? 120 : 400);
            int rounds = settings.Int("--rounds", 3);
            int runs = files / 2;
            files = runs * 2;
            Report.Line($"\n9. Downloads: {files} files of 256 KiB ({runs} runs of two), {LatencyMs} ms latency on each download, {Concurrency} at once, best of {rounds} interleaved rounds");
            using FakeNenProcess fake = FakeNenProcess.Start(files: 2, FileBytes);
            using var engine = new HostedEngine(fake.BaseUri, FakeNenProcess.ApiKey, BenchSettings.SigningKey);

            // The runs and their links, before any clock starts: what Wait-NenRun hands Get-NenRunResult.
            var links = new List<(string MessageId, string Name, string Url)>();
            (await engine.RunAsync(
                "$global:statuses = $rows | Start-NenRun -WorkflowId $wf -NoProgress | Wait-NenRun -PollIntervalSec 0.2 -NoProgress; " +
                "$global:statuses | ForEach-Object { $m = $_.MessageId; $_.Results | ForEach-Object { '{0}|{1}|{2}' -f $m, $_.Name, $_.Url } }",
                new Dictionary<string, object?> { ["rows"] = Enumerable.Range(0, runs).Select(i => PSObject.AsPSObject(new { NAME = "download " + i })).ToList(), ["wf"] = FakeNenProcess.Workflow },
                o => { string[] p = ((string)o.BaseObject).Split('|'); lock (links) links.Add((p[0], p[1], p[2])); })).ThrowIfFailed("starting the runs");
            if (links.Count != files) throw new InvalidOperationException($"{links.Count} links for {files} files");
            await fake.SetFaultsAsync(new { files = new { latencyMs = LatencyMs } });

            string root = Path.Combine(Path.GetTempPath(), $"nenai-bench-downloads-{Guid.NewGuid():N}");
            int folder = 0;
            string NewFolder() => Path.Combine(root, (folder++).ToString());
            using var raw = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency });

            async Task<double> Cmdlet(int count)
            {
                HostedRun run = (await engine.RunAsync("$global:statuses[0..($runs - 1)] | Get-NenRunResult -Destination $to -ThrottleLimit $limit -NoProgress | Out-Null",
                    new Dictionary<string, object?> { ["runs"] = count / 2, ["to"] = NewFolder(), ["limit"] = Concurrency })).ThrowIfFailed("Get-NenRunResult");
                return count / run.Elapsed.TotalSeconds;
            }
            async Task<double> Raw(int count)
            {
                string to = NewFolder();
                var gate = new SemaphoreSlim(Concurrency);
                var sw = Stopwatch.StartNew();
                await Task.WhenAll(links.Take(count).Select(async link =>
                {
                    await gate.WaitAsync();
                    try
                    {
                        string dir = Path.Combine(to, link.MessageId);
                        Directory.CreateDirectory(dir);
                        using HttpResponseMessage response = await raw.GetAsync(link.Url, HttpCompletionOption.ResponseHeadersRead);
                        response.EnsureSuccessStatusCode();
                        await using Stream body = await response.Content.ReadAsStreamAsync();
                        await using var file = new FileStream(Path.Combine(dir, link.Name), FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                        await body.CopyToAsync(file);
                    }
                    finally { gate.Release(); }
                }));
                return count / sw.Elapsed.TotalSeconds;
            }
            async Task<double> Parallel(int count)
            {
                string to = NewFolder();
                var items = links.Take(count).Select(l => PSObject.AsPSObject(new { l.Url, Path = Path.Combine(to, l.MessageId + "-" + l.Name) })).ToList();
                Directory.CreateDirectory(to);
                HostedRun run = (await engine.RunAsync(
                    "$items | ForEach-Object -Parallel { $ProgressPreference = 'SilentlyContinue'; Invoke-WebRequest -Uri $_.Url -OutFile $_.Path } -ThrottleLimit $limit",
                    new Dictionary<string, object?> { ["items"] = items, ["limit"] = Concurrency })).ThrowIfFailed("ForEach-Object -Parallel");
                return count / run.Elapsed.TotalSeconds;
            }

            var arms = new (string Name, Func<int, Task<double>> Measure)[] { ("cmdlet", Cmdlet), ("raw", Raw), ("parallel", Parallel) };
            var best = arms.ToDictionary(a => a.Name, _ => 0.0);
            var all = arms.ToDictionary(a => a.Name, _ => new List<double>());
            try
            {
                foreach (var arm in arms) await arm.Measure(Math.Min(files, 24)); // warm-up: JIT, connections, runspaces
                for (int round = 0; round < rounds; round++)
                {
                    foreach (var arm in arms.Skip(round % arms.Length).Concat(arms.Take(round % arms.Length)))
                    {
                        double rate = await arm.Measure(files);
                        all[arm.Name].Add(rate);
                        best[arm.Name] = Math.Max(best[arm.Name], rate);
                    }
                }
                long saved = Directory.GetFiles(root, "*", SearchOption.AllDirectories).Where(f => !f.Contains(".nenai")).Sum(f => new FileInfo(f).Length);
                long expected = (long)FileBytes * (files * arms.Length * rounds + arms.Length * Math.Min(files, 24));
                if (saved != expected) throw new InvalidOperationException($"saved {saved:N0} bytes, expected {expected:N0}");
            }
            finally
            {
                if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
            }

            string Rounds(string arm) => string.Join(" / ", all[arm].Select(x => x.ToString("0")));
            Report.Line($"  absolute (files/s, each round): Get-NenRunResult {Rounds("cmdlet")}; raw HttpClient {Rounds("raw")}; ForEach-Object -Parallel with Invoke-WebRequest {Rounds("parallel")}; ceiling {Concurrency * 1000.0 / LatencyMs:0}");
            Report.Ratio("9. Get-NenRunResult / raw HttpClient", best["cmdlet"] / best["raw"], 0.9, true, $"{best["cmdlet"]:0} vs {best["raw"]:0} files/s");
            Report.Info("9. Get-NenRunResult / ForEach-Object -Parallel", best["cmdlet"] / best["parallel"], $"{best["cmdlet"]:0} vs {best["parallel"]:0} files/s");
        }

        public static async Task MemoryAsync(BenchSettings settings)
        {
            Report.Line($"\n10. Memory while saving one 2 GiB file: `$status | Get-NenRunResult` in a process of its own (gen0 budget fixed at 16 MiB), no injected latency");
            using FakeNenProcess fake = FakeNenProcess.Start(files: 1, BigFileBytes);
            using var engine = new HostedEngine(fake.BaseUri, FakeNenProcess.ApiKey, BenchSettings.SigningKey);
            (await engine.RunAsync("$global:status = [pscustomobject]@{ NAME = 'big' } | Start-NenRun -WorkflowId $wf -NoProgress | Wait-NenRun -PollIntervalSec 0.2 -NoProgress",
                new Dictionary<string, object?> { ["wf"] = FakeNenProcess.Workflow })).ThrowIfFailed("starting the run", 0);
            string to = Path.Combine(Path.GetTempPath(), $"nenai-bench-big-{Guid.NewGuid():N}");
            long baseline, peak;
            HostedRun run;
            try
            {
                await using (var memory = new PeakWorkingSet()) // the baseline: after Import-Module and a first command
                {
                    baseline = memory.Baseline;
                    run = (await engine.RunAsync("$global:status | Get-NenRunResult -Destination $to -NoProgress | Out-Null", new Dictionary<string, object?> { ["to"] = to })).ThrowIfFailed("Get-NenRunResult");
                    peak = memory.Peak;
                }
                long length = Directory.GetFiles(to, "*", SearchOption.AllDirectories).Where(f => !f.Contains(".nenai")).Sum(f => new FileInfo(f).Length);
                if (length != BigFileBytes) throw new InvalidOperationException($"saved {length:N0} bytes, expected {BigFileBytes:N0}");
            }
            finally
            {
                if (Directory.Exists(to)) Directory.Delete(to, recursive: true);
            }
            double growth = PeakWorkingSet.MB(peak - baseline);
            Report.Line($"  absolute: working set after import {PeakWorkingSet.MB(baseline):0.0} MB, peak while saving {PeakWorkingSet.MB(peak):0.0} MB (+{growth:0.0}); {BigFileBytes / 1024.0 / 1024 / run.Elapsed.TotalSeconds:0} MB/s");
            Report.Ratio("10. working-set growth / 50 MB budget", growth / 50.0, 1.0, false, $"+{growth:0.0} MB for a 2,048 MB file: streamed, not held");
        }

        /// <summary>Row 10 in a fresh process of this program (as row 6), so its baseline is clean; its lines are shown as they come.</summary>
        public static bool MemoryInChildProcess(string[] args) => MemoryBenchmark.InChildProcess(args, "download-memory");
    }
}
