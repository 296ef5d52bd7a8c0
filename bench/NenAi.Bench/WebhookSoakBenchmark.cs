using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Signing;
using NenAi.Core.Webhooks;

namespace NenAi.Bench
{
    /// <summary>
    /// Row W: a soak of `Receive-NenWebhook` in service mode with -StatePath, in a process of its own (this program with
    /// --child, hosting PowerShell 7.6 with the module, the GC's gen0 budget fixed as for row 6). After a warm-up, this
    /// process sends signed final updates, each for a new run, at a steady rate from eight sender threads with a
    /// keep-alive connection each, and measures the time to each 200; every tenth delivery also goes to a bare
    /// HttpListener in a process of its own (the baseline, at the same time). It samples the receiver's working set and
    /// the state file's size and compares their peaks over the first and the last tenth of the deliveries; the receiver
    /// remembers <c>--soak-remember</c> runs, so both reach their plateau before the first tenth ends; flat means at most
    /// 1.1 times. Then the state file is opened as a restarted receiver opens it, and timed.
    /// </summary>
    public static class WebhookSoakBenchmark
    {
        private const string Secret = "bench-webhook-secret";

        public static Task RunAsync(BenchSettings settings, string[] args, bool child) =>
            !child ? SoakAsync(settings, args) : settings.Text("--soak-raw") is string raw ? RawListenerAsync(raw, settings.Int("--soak-seconds", 60)) : ReceiverAsync(settings);

        /// <summary>
        /// The baseline: a bare HttpListener in a process like the receiver's, that reads each body and answers 200
        /// (no signature, no state file, no PowerShell). It gets every tenth delivery of the soak, at the same time, so
        /// both meet the same machine: what the receiver adds to the time to the 200 is the difference.
        /// </summary>
        private static async Task RawListenerAsync(string prefix, int seconds)
        {
            using var listener = new HttpListener();
            listener.Prefixes.Add(prefix);
            listener.Start();
            var until = Stopwatch.StartNew();
            Task<HttpListenerContext> next = listener.GetContextAsync();
            while (until.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                if (await Task.WhenAny(next, Task.Delay(1000)) != next) continue;
                Task<HttpListenerContext> taken = next;
                next = listener.GetContextAsync();
                _ = Task.Run(async () =>
                {
                    HttpListenerContext context = await taken;
                    await context.Request.InputStream.CopyToAsync(Stream.Null);
                    context.Response.StatusCode = context.Request.Headers[WebhookSignature.HeaderName] is null ? 401 : 200;
                    context.Response.ContentLength64 = 0;
                    context.Response.Close();
                });
            }
        }

        private static int Count(BenchSettings s) => s.Int("--soak-count", s.Quick ? 20_000 : 100_000);
        private static int Rate(BenchSettings s) => s.Int("--soak-rate", 500);
        private static int Remember(BenchSettings s) => s.Int("--soak-remember", s.Quick ? 1_000 : 5_000);
        /// <summary>Deliveries before the measured ones: the runtime's and PowerShell's own warm-up (tiered JIT, compiled script blocks) is over, and the memory has reached its plateau.</summary>
        private static int Warmup(BenchSettings s) => s.Int("--soak-warmup", s.Quick ? 2_000 : 20_000);

        /// <summary>The child: the receiver, until its -TimeoutSec; prints what it wrote.</summary>
        private static async Task ReceiverAsync(BenchSettings settings)
        {
            string prefix = settings.Text("--soak-prefix")!, state = settings.Text("--soak-state")!;
            int seconds = settings.Int("--soak-seconds", 60);
            using var engine = new HostedEngine(new Uri("http://127.0.0.1:9/"), BenchSettings.ApiKey, BenchSettings.SigningKey);
            // "heap" on standard input: the managed heap after a full collection (what the receiver holds), on standard output.
            _ = Task.Factory.StartNew(() =>
            {
                string? line;
                while ((line = Console.In.ReadLine()) != null)
                    if (line == "heap") Console.WriteLine($"HEAP {GC.GetTotalMemory(forceFullCollection: true)}");
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default); // a blocking read: off the thread pool the receiver uses
            long written = -1;
            HostedRun run = await engine.RunAsync(@"
                $written = 0
                Receive-NenWebhook -Prefix $prefix -WebhookSecret $secret -StatePath $state -MaximumRememberedRuns $remember -TimeoutSec $seconds -NoProgress -SummaryVariable summary |
                    ForEach-Object { $written++ }
                $written",
                new Dictionary<string, object?>
                {
                    ["prefix"] = prefix, ["state"] = state, ["seconds"] = seconds, ["remember"] = Remember(settings),
                    ["secret"] = new NetworkCredential(string.Empty, Secret).SecurePassword,
                },
                o => written = Convert.ToInt64(o.BaseObject));
            Console.WriteLine($"RECEIVER written={written} errors={run.Errors} first-error={run.FirstError}");
        }

        private static async Task SoakAsync(BenchSettings settings, string[] args)
        {
            int count = Count(settings), rate = Rate(settings), remember = Remember(settings), warmup = Warmup(settings);
            int first = count / 10;
            Report.Line($"\nW. Webhook soak: {count:N0} signed final updates (each a new run) at {rate}/s through `Receive-NenWebhook -StatePath` (service mode, -MaximumRememberedRuns {remember:N0}) in a process of its own, gen0 budget fixed at 16 MiB, after {warmup:N0} deliveries of warm-up");
            string folder = Directory.CreateTempSubdirectory("nenai-soak-").FullName;
            string state = Path.Combine(folder, "service.webhooks.jsonl");
            int port = FreePort();
            string prefix = $"http://127.0.0.1:{port}/nen/";
            int seconds = (int)Math.Ceiling((double)(count + warmup) / rate) + 25;

            var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardInput = true };
            psi.Environment["DOTNET_GCgen0size"] = MemoryBenchmark.Gen0Budget;
            string self = typeof(WebhookSoakBenchmark).Assembly.Location;
            if (!Path.GetFileNameWithoutExtension(Environment.ProcessPath!).Equals("NenAi.Bench", StringComparison.OrdinalIgnoreCase)) psi.ArgumentList.Add(self);
            foreach (string a in args) psi.ArgumentList.Add(a);
            foreach (string a in new[] { "--only", "webhook-soak", "--child", "--soak-prefix", prefix, "--soak-state", state, "--soak-seconds", seconds.ToString() }) psi.ArgumentList.Add(a);
            using Process receiver = Process.Start(psi)!;
            string rawPrefix = $"http://127.0.0.1:{FreePort()}/raw/";
            var rawPsi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = true };
            rawPsi.Environment["DOTNET_GCgen0size"] = MemoryBenchmark.Gen0Budget;
            foreach (string a in psi.ArgumentList) rawPsi.ArgumentList.Add(a);
            rawPsi.ArgumentList.Add("--soak-raw");
            rawPsi.ArgumentList.Add(rawPrefix);
            using Process raw = Process.Start(rawPsi)!;
            _ = raw.StandardOutput.ReadToEndAsync();
            var said = new System.Collections.Concurrent.BlockingCollection<string>();
            // A thread of its own reads the receiver's output: blocking reads stay off the thread pool.
            Task<string> receiverOutput = Task.Factory.StartNew(() =>
            {
                var all = new StringBuilder();
                string? line;
                while ((line = receiver.StandardOutput.ReadLine()) != null)
                {
                    all.AppendLine(line);
                    if (line.StartsWith("HEAP ", StringComparison.Ordinal)) said.Add(line.Substring(5));
                }
                return all.ToString();
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            long Heap()
            {
                receiver.StandardInput.WriteLine("heap");
                receiver.StandardInput.Flush();
                return said.TryTake(out string? bytes, TimeSpan.FromSeconds(30)) ? long.Parse(bytes) : -1;
            }

            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 64, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) }) { Timeout = TimeSpan.FromSeconds(10) };
            await WaitUntilListeningAsync(http, prefix);
            await WaitUntilListeningAsync(http, rawPrefix);
            byte[] secret = Encoding.UTF8.GetBytes(Secret);
            long warm = 0;
            Steady(warmup, "warm", rate, prefix, secret, new double[warmup], new int[warmup], _ => { }, () => Interlocked.Increment(ref warm));
            await Task.Delay(1000); // the receiver writes what the warm-up sent before its baseline is taken
            long baseline = WorkingSet(receiver), heapBaseline = Heap(), heapAtFirst = 0;
            TimeSpan cpuBefore = Cpu(receiver), rawCpuBefore = Cpu(raw);

            var latencies = new double[count];
            var codes = new int[count];
            long answered = 0;
            // Peaks over two windows of the same length: the first `first` deliveries, and the last (a peak over the whole
            // run would be the largest of ten times as many sawtooth cycles of the state file, and so biased upwards).
            long wsFirst = 0, wsLast = 0, fileFirst = 0, fileLast = 0;
            using var stop = new CancellationTokenSource();
            Task sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    long ws = WorkingSet(receiver);
                    long file = File.Exists(state) ? new FileInfo(state).Length : 0;
                    long done = Interlocked.Read(ref answered);
                    if (done <= first) { wsFirst = Math.Max(wsFirst, ws); fileFirst = Math.Max(fileFirst, file); }
                    if (done >= count - first) { wsLast = Math.Max(wsLast, ws); fileLast = Math.Max(fileLast, file); }
                    try { await Task.Delay(50, stop.Token); } catch (OperationCanceledException) { }
                }
            });

            var timeline = new List<string>();
            var rawLatencies = new double[count / 10];
            var rawCodes = new int[count / 10];
            TimeSpan sending = Steady(count, "soak", rate, prefix, secret, latencies, codes, i =>
            {
                if (i + 1 == first) heapAtFirst = Heap(); // (a full collection in the receiver: it shows in that moment's latencies)
                if ((i + 1) % first == 0) lock (timeline) timeline.Add($"{(i + 1) / 1000}k {PeakWorkingSet.MB(WorkingSet(receiver)):0}");
            }, () => Interlocked.Increment(ref answered), rawPrefix, rawLatencies, rawCodes);
            TimeSpan cpu = Cpu(receiver) - cpuBefore, rawCpu = Cpu(raw) - rawCpuBefore;
            await Task.Delay(200); // one more sample
            stop.Cancel();
            await sampler;
            long heapAtLast = Heap();
            if (settings.Text("--soak-dump") is string dump) File.WriteAllLines(dump, latencies.Select((l, i) => $"{i} {l:0.0}"));

            string result = await receiverOutput;
            receiver.WaitForExit();
            if (!raw.WaitForExit(30_000)) raw.Kill();
            var restart = Stopwatch.StartNew();
            int loaded, unwritten;
            long finalFile = new FileInfo(state).Length;
            long compactedFile;
            TimeSpan reopen;
            using (UpdateLedger ledger = UpdateLedger.Open(state, remember))
            {
                reopen = restart.Elapsed;
                loaded = ledger.LoadedCount;
                unwritten = ledger.Unwritten;
                // What one remembered run costs on disk: the file as the reopening compacted it, when that was due.
                var compacting = Stopwatch.StartNew();
                bool due = ledger.FileLines >= 2L * (loaded + unwritten) + 1_000;
                while (due && ledger.Compactions == 0 && compacting.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20);
                compactedFile = ledger.Compactions > 0 ? new FileInfo(state).Length : -1;
            }
            Directory.Delete(folder, recursive: true);
            double fileBytesPerRun = (double)compactedFile / Math.Max(1, loaded);
            double memoryBytesPerRun = MemoryPerRememberedRun(100_000);

            double[] sorted = latencies.OrderBy(x => x).ToArray();
            double p50 = sorted[sorted.Length / 2], p99 = sorted[(int)(sorted.Length * 0.99)], max = sorted[^1];
            int ok = codes.Count(c => c == 200);
            double[] rawSorted = rawLatencies.OrderBy(x => x).ToArray();
            double rawP50 = rawSorted[rawSorted.Length / 2], rawP99 = rawSorted[(int)(rawSorted.Length * 0.99)];
            long written = ParseWritten(result);
            double perSecond = count / sending.TotalSeconds;
            Report.Line($"  absolute: {ok:N0} of {count:N0} answered 200 ({count - ok} otherwise), {written - warmup:N0} written by the receiver (and the {warmup:N0} of the warm-up), {unwritten} left unwritten; {perSecond:0} deliveries/s; time to the 200: p50 {p50:0.0} ms, p99 {p99:0.0} ms, max {max:0.0} ms");
            Report.Line($"  absolute: baseline, a bare HttpListener answering every tenth delivery at the same time ({rawCodes.Count(c => c == 200):N0} answered 200): p50 {rawP50:0.0} ms, p99 {rawP99:0.0} ms");
            Report.Line($"  absolute: CPU per delivery (both cores count): receiver {cpu.TotalMilliseconds * 1000 / count:0} µs ({cpu.TotalSeconds / sending.TotalSeconds * 100:0} % of one core at {rate}/s), bare listener {rawCpu.TotalMilliseconds * 1000 / rawLatencies.Length:0} µs");
            Report.Line($"  absolute: receiver working set after the warm-up {PeakWorkingSet.MB(baseline):0.0} MB; peak over the first {first:N0} deliveries {PeakWorkingSet.MB(wsFirst):0.0} MB, over the last {first:N0} (to {count:N0}) {PeakWorkingSet.MB(wsLast):0.0} MB");
            Report.Line($"  absolute: receiver working set (MB) every {first:N0} deliveries: " + string.Join(", ", timeline.OrderBy(t => int.Parse(t.Substring(0, t.IndexOf('k'))))));
            Report.Line($"  absolute: receiver managed heap after a full collection: after the warm-up {PeakWorkingSet.MB(heapBaseline):0.0} MB, at {first:N0} deliveries {PeakWorkingSet.MB(heapAtFirst):0.0} MB, at {count:N0} {PeakWorkingSet.MB(heapAtLast):0.0} MB");
            Report.Line($"  absolute: state file peak over the first {first:N0} deliveries {fileFirst / 1024.0:0} KiB, over the last {first:N0} {fileLast / 1024.0:0} KiB, at the end {finalFile / 1024.0:0} KiB; a restart reads it ({loaded:N0} runs remembered) in {reopen.TotalMilliseconds:0} ms");
            Report.Line($"  absolute: a remembered run costs {memoryBytesPerRun:0} B of memory" + (compactedFile > 0 ? $" and {fileBytesPerRun:0} B of state file (compacted when the restart opened it)" : " (the state file was not due for a compaction at the restart)"));
            if (written != count + warmup || ok != count) Report.Missed.Add($"W (every delivery answered 200 and written: {ok} of {count} answered, {written} of {count + warmup} written)");
            Report.Ratio("W. deliveries/s / rate sent", perSecond / rate, 0.98, true, $"{perSecond:0} vs {rate}/s");
            Report.Ratio("W. p99 time to the 200 / sender's 5 s budget", p99 / 5000, 0.1, false, $"{p99:0.0} ms; p50 {p50:0.0} ms");
            Report.Ratio("W. p99 time to the 200 / bare listener's", p99 / rawP99, 3, false, $"{p99:0.0} vs {rawP99:0.0} ms, at the same time");
            Report.Ratio($"W. working set at {count / 1000}k / at {first / 1000}k (growth)", (double)wsLast / wsFirst, 1.1, false, "peaks over the first and the last 10 %; flat means ≈ 1");
            Report.Ratio($"W. heap held at {count / 1000}k / at {first / 1000}k (growth)", (double)heapAtLast / heapAtFirst, 1.1, false, "after a full collection; flat means ≈ 1");
            Report.Ratio($"W. state file at {count / 1000}k / at {first / 1000}k (growth)", (double)fileLast / fileFirst, 1.1, false, "peaks over the first and the last 10 %; flat means ≈ 1");
        }

        /// <summary>The managed heap an in-memory ledger holds per run remembered (each claimed, received and written, as the receiver does).</summary>
        private static double MemoryPerRememberedRun(int runs)
        {
            long before = GC.GetTotalMemory(forceFullCollection: true);
            using UpdateLedger ledger = UpdateLedger.InMemory(runs);
            for (int i = 0; i < runs; i++)
            {
                string id = Guid.NewGuid().ToString();
                ledger.Claim(id, "success");
                ledger.RecordReceived(NenAi.Core.Models.RunSnapshot.Parse("{\"message_id\":\"" + id + "\",\"status\":\"success\"}", null, DateTimeOffset.UtcNow));
                ledger.RecordWritten(id, "success");
            }
            long after = GC.GetTotalMemory(forceFullCollection: true);
            GC.KeepAlive(ledger);
            return (double)(after - before) / runs;
        }

        /// <summary>Sender threads (each with a keep-alive connection of its own), as a sender with a few connections has.</summary>
        private const int Senders = 8;

        /// <summary>
        /// Sends <paramref name="count"/> deliveries at a steady rate: delivery i leaves at i / rate seconds, from one of
        /// <see cref="Senders"/> threads of its own, each sending and waiting for the answer as a webhook sender does.
        /// (Threads, not tasks: a sender on the thread pool of a 2-core machine measured its own scheduling, up to a
        /// second at a time, not the receiver.) Every tenth delivery is also sent to <paramref name="rawUrl"/>, if given.
        /// </summary>
        private static TimeSpan Steady(int count, string tag, int rate, string url, byte[] secret, double[] latencies, int[] codes, Action<int> sent, Action answered,
            string? rawUrl = null, double[]? rawLatencies = null, int[]? rawCodes = null)
        {
            var clock = Stopwatch.StartNew();
            var threads = Enumerable.Range(0, Senders).Select(k => new Thread(() =>
            {
                using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) }) { Timeout = TimeSpan.FromSeconds(10) };
                for (int i = k; i < count; i += Senders)
                {
                    TimeSpan wait = TimeSpan.FromSeconds((double)i / rate) - clock.Elapsed;
                    if (wait > TimeSpan.Zero) Thread.Sleep(wait);
                    Send(http, url, secret, tag, i, latencies, codes);
                    answered();
                    if (rawUrl != null && i % 10 == 0 && i / 10 < rawLatencies!.Length) Send(http, rawUrl, secret, "raw", i / 10, rawLatencies, rawCodes!);
                    sent(i);
                }
            }) { IsBackground = true, Name = "soak sender " + k }).ToList();
            foreach (Thread t in threads) t.Start();
            foreach (Thread t in threads) t.Join();
            return clock.Elapsed;
        }

        private static void Send(HttpClient http, string url, byte[] secret, string tag, int n, double[] latencies, int[] codes)
        {
            string id = $"{n:x8}-{tag}-0000-0000-{Guid.NewGuid().ToString("N").Substring(0, 12)}";
            string body = "{\"workflow_id\":\"0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21\",\"message_id\":\"" + id + "\",\"status\":\"success\",\"expires_at\":1893456000," +
                "\"result\":{\"ok\":true},\"results\":[{\"name\":\"assets.zip\",\"url\":\"https://files.example.com/" + id + "/assets.zip?expires=1893456000&sig=0123456789abcdef0123456789abcdef\",\"content_type\":\"application/zip\",\"size\":300}]}";
            byte[] bytes = Encoding.UTF8.GetBytes(body);
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, WebhookSignature.Compute(secret, bytes));
            var clock = Stopwatch.StartNew();
            try
            {
                using HttpResponseMessage response = http.Send(request, HttpCompletionOption.ResponseHeadersRead);
                codes[n] = (int)response.StatusCode;
            }
            catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException)
            {
                codes[n] = 0;
            }
            latencies[n] = clock.Elapsed.TotalMilliseconds;
        }

        private static async Task WaitUntilListeningAsync(HttpClient http, string prefix)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                try
                {
                    using HttpResponseMessage r = await http.PostAsync(prefix, new StringContent("{}"));
                    if (r.StatusCode == HttpStatusCode.Unauthorized) return;
                }
                catch (HttpRequestException) { }
                await Task.Delay(50);
            }
            throw new InvalidOperationException("The receiver never listened.");
        }

        private static long ParseWritten(string output)
        {
            foreach (string line in output.Split('\n'))
                if (line.StartsWith("RECEIVER written=", StringComparison.Ordinal))
                    return long.Parse(line.Substring("RECEIVER written=".Length).Split(' ')[0]);
            throw new InvalidOperationException("The receiver said nothing: " + output);
        }

        private static TimeSpan Cpu(Process process)
        {
            try
            {
                process.Refresh();
                return process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return TimeSpan.Zero;
            }
        }

        private static long WorkingSet(Process process)
        {
            try
            {
                process.Refresh();
                return process.WorkingSet64;
            }
            catch (InvalidOperationException)
            {
                return 0; // it has exited
            }
        }

        private static int FreePort()
        {
            var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }
    }
}
