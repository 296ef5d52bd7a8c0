using System;
using System.Diagnostics;
using System.Threading.Tasks;
using NenAi.Bench;
using NenAi.Core.Http;

// Benchmarks (bench/README.md). Every figure is a ratio against a baseline measured in this same run.
var settings = new BenchSettings(args);
bool child = Array.IndexOf(args, "--child") >= 0;
string? only = settings.Text("--only"); // memory | hosted-memory | submit | progress | wait | hosted-wait | sign | download | download-memory | webhook-soak
bool Runs(string name) => only is null || only == name;

if (!child)
    Report.Line($"NenAi benchmarks ({(settings.Quick ? "quick" : "full")}) on {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; injected latency {settings.LatencyMs} ms");
using var emulator = EmulatorProcess.Start(settings.EmulatorConfig);
NenApiClient client = BenchSettings.Client(emulator);
var total = Stopwatch.StartNew();

// --quick keeps to the cmdlet rows (5-8) and the cheap ones that come with them (1, 4): the core-only rows 2 and 3
// are in the full run (or asked for with --only), so the quick run has time for best-of-3 comparisons.
bool core = only != null || !settings.Quick;

// Memory first, so its baseline is the idle client rather than what the throughput arms left behind; the
// hosted memory row runs in a fresh process of its own (unless asked for alone, which is a fresh process).
if (Runs("memory") && core) await Timed(() => MemoryBenchmark.CoreAsync(settings, emulator, client));
if (only == "hosted-memory" && child) await Timed(() => MemoryBenchmark.HostedAsync(settings, emulator));
else if ((only is null || only == "hosted-memory") && !MemoryBenchmark.HostedInChildProcess(args)) Report.Missed.Add("6 (hosted memory)");
if (Runs("submit")) await Timed(() => SubmissionBenchmark.RunAsync(settings, emulator, client));
if (Runs("progress")) await Timed(() => ProgressBenchmark.RunAsync(settings, emulator));
if (Runs("wait") && core) await Timed(() => WaitBenchmark.CoreAsync(settings, emulator, client));
if (Runs("wait") || only == "hosted-wait") await Timed(() => WaitBenchmark.HostedAsync(settings, emulator, client));
if (Runs("sign")) await Timed(() => { SigningBenchmark.Run(settings); return Task.CompletedTask; });
if (Runs("download")) await Timed(() => DownloadBenchmark.ThroughputAsync(settings));
// Row 10 saves a 2 GiB file: in the full run (or asked for), in a fresh process of its own, as row 6.
if (only == "download-memory" && child) await Timed(() => DownloadBenchmark.MemoryAsync(settings));
else if ((only == "download-memory" || (only is null && !settings.Quick)) && !DownloadBenchmark.MemoryInChildProcess(args)) Report.Missed.Add("10 (download memory)");
if (Runs("webhook-soak") && core) await Timed(() => WebhookSoakBenchmark.RunAsync(settings, args, child));

if (!child)
    Report.Line($"\nDone in {total.Elapsed.TotalSeconds:0} s. {(Report.Missed.Count == 0 ? "All targets met." : "Missed: " + string.Join(", ", Report.Missed))}");
return Report.Missed.Count == 0 ? 0 : 1;

static async Task Timed(Func<Task> benchmark)
{
    var clock = Stopwatch.StartNew();
    await benchmark();
    Report.Line($"  ({clock.Elapsed.TotalSeconds:0.0} s)");
}
