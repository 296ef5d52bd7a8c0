using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Bench;
using NenAi.Core.Batch;
using NenAi.Core.Configuration;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Rows;
using NenAi.Core.Signing;
using NenAi.Core.Waiting;

// Benchmarks of issue 5. Every figure is a ratio against a baseline measured in this same run.
bool quick = args.Contains("--quick");
int latencyMs = ArgInt("--latency", 20);
int submitN = ArgInt("--submit", quick ? 2_000 : 10_000);
int sequentialN = ArgInt("--sequential", quick ? 150 : 500);
int[] memoryCheckpoints = quick ? new[] { 5_000, 10_000, 20_000 } : new[] { 10_000, 50_000, 100_000 };
int waitRuns = ArgInt("--wait-runs", quick ? 1_000 : 5_000);
int waitSpreadSec = ArgInt("--wait-spread", quick ? 15 : 60);
double pollSec = quick ? 2 : 5;
const string ApiKey = "bench-api-key";
const string SigningKey = "bench-signing-key";
const string Workflow = "0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21";
const string WaitWorkflow = "5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a5a";

Report.Line($"NenAi benchmarks ({(quick ? "quick" : "full")}) on {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; injected latency {latencyMs} ms");
string config = $$"""
{
  "apiKeys": [ { "name": "bench", "key": "{{ApiKey}}", "signingKey": "{{SigningKey}}" } ],
  "honourIdempotencyKey": false,
  "workflows": [
    { "id": "{{Workflow}}", "name": "bench", "extraParams": "ignore", "queuedMs": 0, "durationMs": 1000 },
    { "id": "{{WaitWorkflow}}", "name": "spread", "extraParams": "ignore", "queuedMs": 0, "durationMs": 0, "durationJitterMs": {{waitSpreadSec * 1000}} }
  ]
}
""";
using var emulator = EmulatorProcess.Start(config);
var options = NenClientOptions.Resolve(emulator.BaseUri.ToString(), Secret(ApiKey), Secret(SigningKey), environment: _ => null);
var client = new NenApiClient(options);
var total = Stopwatch.StartNew();

// Memory first, so its baseline is the idle client rather than what the throughput arms left behind.
string? only = ArgText("--only"); // memory | submit | wait | sign
if (only is null or "memory") await MemoryAtScale();
if (only is null or "submit") await SubmissionThroughput();
if (only is null or "wait") await WaitingEfficiency();
if (only is null or "sign") SigningCost();

Report.Line($"Done in {total.Elapsed.TotalSeconds:0} s. {(Report.Missed.Count == 0 ? "All targets met." : "Missed: " + string.Join(", ", Report.Missed))}");
return Report.Missed.Count == 0 ? 0 : 1;

// 1. Throughput: the core's submitter vs raw HttpClient (same concurrency) vs a sequential loop with a new connection per request.
async Task SubmissionThroughput()
{
    Report.Line($"\n1. Submission throughput: {submitN:N0} runs at concurrency 16 (sequential baseline: {sequentialN:N0} runs)");
    await emulator.SetFaultsAsync(new { latencyMs });
    byte[][] bodies = Enumerable.Range(0, submitN).Select(i => Encoding.UTF8.GetBytes($"{{\"workflow_id\":\"{Workflow}\",\"workflow_params\":{{\"ROW\":\"{i}\",\"NAME\":\"name {i}\"}}}}")).ToArray();

    await emulator.ResetAsync(); await emulator.SetFaultsAsync(new { latencyMs });
    var sw = Stopwatch.StartNew();
    using (var submitter = new BatchSubmitter(client, 16))
    {
        int ok = 0;
        await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, submitN).Select(i =>
        {
            var r = new RunRequest(Workflow);
            r.Parameters.Add(new("ROW", i.ToString()));
            r.Parameters.Add(new("NAME", "name " + i));
            return r;
        }))) if (o.Status == SubmissionStatus.Accepted) ok++;
        if (ok != submitN) throw new InvalidOperationException($"submitter: only {ok} of {submitN} accepted");
    }
    double submitterRate = submitN / sw.Elapsed.TotalSeconds;

    await emulator.ResetAsync(); await emulator.SetFaultsAsync(new { latencyMs });
    using var raw = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 });
    var gate = new SemaphoreSlim(16);
    sw.Restart();
    await Task.WhenAll(bodies.Select(async body =>
    {
        await gate.WaitAsync();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(emulator.BaseUri, "runs")) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Add("x-api-key", ApiKey);
            using var response = await raw.SendAsync(request);
            response.EnsureSuccessStatusCode();
        }
        finally { gate.Release(); }
    }));
    double rawRate = submitN / sw.Elapsed.TotalSeconds;

    await emulator.ResetAsync(); await emulator.SetFaultsAsync(new { latencyMs });
    sw.Restart();
    for (int i = 0; i < sequentialN; i++)
    {
        // Invoke-RestMethod without -WebSession: a new client, so a new connection, per call.
        using var once = new HttpClient(new SocketsHttpHandler());
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(emulator.BaseUri, "runs")) { Content = new ByteArrayContent(bodies[i]) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("x-api-key", ApiKey);
        using var response = await once.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }
    double sequential = sequentialN / sw.Elapsed.TotalSeconds;
    Report.Line($"  absolute: submitter {submitterRate:0} runs/s, raw HttpClient {rawRate:0} runs/s, sequential {sequential:0} runs/s");
    Report.Ratio("submitter / raw HttpClient (baseline A)", submitterRate / rawRate, 0.9, true, $"{submitterRate:0} vs {rawRate:0} runs/s");
    Report.Ratio("submitter / sequential loop (baseline B)", submitterRate / sequential, 10, true, $"{submitterRate:0} vs {sequential:0} runs/s");
}

// 2. Memory: a generated CSV streamed through row mapping and the submitter; the working set must stay flat.
async Task MemoryAtScale()
{
    int rows = memoryCheckpoints[^1];
    Report.Line($"\n2. Memory: {rows:N0}-row CSV with 12 columns streamed through row mapping and the submitter (concurrency 16, no injected latency)");
    string csv = Path.Combine(Path.GetTempPath(), $"nenai-bench-{Guid.NewGuid():N}.csv");
    using (var w = new StreamWriter(csv))
    {
        w.WriteLine(string.Join(",", Enumerable.Range(1, 12).Select(c => "COL" + c)));
        for (int r = 0; r < rows; r++) w.WriteLine(string.Join(",", Enumerable.Range(1, 12).Select(c => $"r{r}c{c}-{new string('x', 20)}")));
    }
    await emulator.ResetAsync();
    await emulator.SetFaultsAsync(new { latencyMs = 0 });
    GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
    var self = Process.GetCurrentProcess();
    self.Refresh();
    long baseline = self.WorkingSet64;
    long peak = baseline;
    using var sampling = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        while (!sampling.IsCancellationRequested)
        {
            self.Refresh();
            long ws = self.WorkingSet64;
            if (ws > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, ws);
            try { await Task.Delay(50, sampling.Token); } catch (OperationCanceledException) { }
        }
    });

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
            yield return factory.Create(Workflow, row, null, null);
        }
    }
    var peaks = new List<(int Rows, long Peak)>();
    int done = 0, next = 0;
    var sw = Stopwatch.StartNew();
    using (var submitter = new BatchSubmitter(client, 16))
    {
        await foreach (var o in submitter.SubmitAllAsync(Rows()))
        {
            if (!o.Succeeded) throw new InvalidOperationException("memory run: a row failed: " + o.Error?.Message);
            done++;
            if (next < memoryCheckpoints.Length && done == memoryCheckpoints[next]) { peaks.Add((done, Interlocked.Read(ref peak))); next++; }
        }
    }
    sampling.Cancel();
    await sampler;
    File.Delete(csv);
    double mb(long b) => b / 1024.0 / 1024.0;
    Report.Line($"  absolute: working set before {mb(baseline):0.0} MB; peak at " + string.Join(", ", peaks.Select(p => $"{p.Rows:N0} rows {mb(p.Peak):0.0} MB")) + $"; {done / sw.Elapsed.TotalSeconds:0} rows/s");
    Report.Ratio($"peak at {peaks[^1].Rows:N0} rows / 100 MB budget", mb(peaks[^1].Peak) / 100.0, 1.0, false, $"{mb(peaks[^1].Peak):0.0} MB");
    Report.Ratio($"peak at {peaks[^1].Rows:N0} / peak at {peaks[0].Rows:N0} rows (growth)", (double)peaks[^1].Peak / peaks[0].Peak, 1.15, false, "flat means ≈ 1");
}

// 3. Waiting: runs finishing at random times; GETs per run per interval and the report delay.
async Task WaitingEfficiency()
{
    Report.Line($"\n3. Waiting: {waitRuns:N0} runs finishing at random over {waitSpreadSec} s, poll interval {pollSec} s, {latencyMs} ms latency");
    await emulator.ResetAsync();
    await emulator.SetFaultsAsync(new { latencyMs = 0 });
    var ids = new List<string>();
    using (var submitter = new BatchSubmitter(client, 32))
        await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, waitRuns).Select(_ => new RunRequest(WaitWorkflow)))) ids.Add(o.Run!.MessageId);
    await emulator.SetFaultsAsync(new { latencyMs });

    var reportedAt = new Dictionary<string, DateTimeOffset>();
    var start = DateTimeOffset.UtcNow;
    using (var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromSeconds(pollSec), MaxConcurrency = 32 }))
        await foreach (var o in waiter.WaitAllAsync(ids)) reportedAt[o.MessageId] = DateTimeOffset.UtcNow;
    var elapsed = DateTimeOffset.UtcNow - start;

    JsonObject ledger = await emulator.LedgerAsync();
    var endsAt = ledger["runs"]!.AsArray().ToDictionary(r => r!["messageId"]!.GetValue<string>(), r => r!["endsAt"]!.GetValue<DateTimeOffset>());
    var gets = ledger["getsByRun"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<int>(), StringComparer.OrdinalIgnoreCase);
    var delays = ids.Select(id => (reportedAt[id] - (endsAt[id] > start ? endsAt[id] : start)).TotalSeconds).OrderBy(d => d).ToList();
    // Allowed polls for a run: one at the start plus one per interval until it was reported.
    var perInterval = ids.Select(id => gets.GetValueOrDefault(id) / (1 + Math.Floor((reportedAt[id] - start).TotalSeconds / pollSec))).ToList();
    double median = delays[delays.Count / 2], p95 = delays[(int)(delays.Count * 0.95)];
    Report.Line($"  absolute: {gets.Values.Sum():N0} GETs for {ids.Count:N0} runs in {elapsed.TotalSeconds:0.0} s; report delay median {median:0.00} s, p95 {p95:0.00} s; max GETs/run/interval {perInterval.Max():0.00}");
    Report.Ratio("GETs per run per poll interval (max over runs)", perInterval.Max(), 1.0, false, $"mean {perInterval.Average():0.00}");
    Report.Ratio("median report delay / poll interval", median / pollSec, 1.0, false, $"{median:0.00} s vs {pollSec} s");
}

// 4. Signing and webhook verification cost, against plain SHA-256 of the same bytes.
void SigningCost()
{
    Report.Line("\n4. Signing and webhook verification cost per operation");
    using SecretValue key = Secret(SigningKey);
    foreach (int size in new[] { 1024, 1024 * 1024 })
    {
        byte[] body = new byte[size];
        new Random(1).NextBytes(body);
        int iterations = size > 4096 ? (quick ? 50 : 200) : (quick ? 5_000 : 20_000);
        double hash = Time(iterations, () => RequestSigner.BodyHash(body, body.Length));
        double sign = Time(iterations, () => RequestSigner.Sign(key, RequestSigner.CanonicalRequest("POST", "/runs", "1730319600", RequestSigner.BodyHash(body, body.Length))));
        string signature = WebhookSignature.Compute(key, body);
        var secrets = new[] { key };
        double verify = Time(iterations, () => WebhookSignature.Verify(body, signature, secrets));
        string label = size >= 1024 * 1024 ? "1 MiB" : "1 KiB";
        Report.Line($"  absolute {label}: SHA-256 {hash:0.0} µs, request signing {sign:0.0} µs, webhook verification {verify:0.0} µs");
        Report.Ratio($"request signing / SHA-256 ({label})", sign / hash, size >= 1024 * 1024 ? 1.5 : 6, false, "body hash dominates for large bodies");
        Report.Ratio($"webhook verification / SHA-256 ({label})", verify / hash, size >= 1024 * 1024 ? 1.5 : 6, false, "one HMAC pass");
    }
}

static double Time(int iterations, Action action)
{
    for (int i = 0; i < Math.Max(3, iterations / 10); i++) action();
    var sw = Stopwatch.StartNew();
    for (int i = 0; i < iterations; i++) action();
    return sw.Elapsed.TotalMilliseconds * 1000 / iterations;
}

static SecretValue Secret(string s) => SecretValue.FromChars(s.AsSpan());

string? ArgText(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

int ArgInt(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out int v) ? v : fallback;
}
