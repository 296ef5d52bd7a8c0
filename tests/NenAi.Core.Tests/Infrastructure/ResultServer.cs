using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NenAi.Core.Configuration;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.TestSupport;

namespace NenAi.Core.Tests.Infrastructure
{
    /// <summary>
    /// Serves a finished run's result files with exactly the names and bytes a test chooses (".zip", "report.partial",
    /// "Report.csv" beside "report.csv"), and counts the requests for each and how many were in flight at once. It can
    /// be slow (<see cref="Latency"/>), fail every file or some (<see cref="Failing"/>), or stall (<see cref="Stall"/>).
    /// </summary>
    public sealed class ResultServer : IAsyncDisposable
    {
        private readonly List<(string Name, byte[] Bytes)> _files;
        private readonly ConcurrentDictionary<int, int> _requests = new ConcurrentDictionary<int, int>();
        private int _inFlight, _maxInFlight;
        private WebApplication _app = null!;
        private Uri _address = null!;

        private ResultServer(List<(string, byte[])> files) => _files = files;

        public static async Task<ResultServer> StartAsync(params (string Name, byte[] Bytes)[] files)
        {
            var server = new ResultServer(files.ToList());
            (server._app, server._address) = await LoopbackApp.StartAsync(app => app.MapGet("/files/{index:int}", (int index, HttpContext c) => server.ServeAsync(index, c)));
            return server;
        }

        /// <summary>How long each file waits before it is served (a failing one answers at once).</summary>
        public TimeSpan Latency { get; set; }
        /// <summary>The files answered with this status instead (500, say); null: every file.</summary>
        public Func<int, bool>? Failing { get; set; }
        public int FailingStatus { get; set; } = 500;
        /// <summary>The Retry-After (seconds) a failing file is answered with; null: none.</summary>
        public int? FailingRetryAfterSeconds { get; set; }
        /// <summary>"headers": never answer; "body": the headers and one byte, then nothing; null: serve.</summary>
        public string? Stall { get; set; }
        /// <summary>The most requests that were in flight at once.</summary>
        public int MaxInFlight => Volatile.Read(ref _maxInFlight);
        public int Requests => _requests.Values.Sum();

        private async Task ServeAsync(int index, HttpContext c)
        {
            _requests.AddOrUpdate(index, 1, (_, n) => n + 1);
            int now = Interlocked.Increment(ref _inFlight);
            for (int max; now > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max;) { }
            try
            {
                if (Failing != null && Failing(index))
                {
                    c.Response.StatusCode = FailingStatus; // at once
                    if (FailingRetryAfterSeconds is int seconds) c.Response.Headers["Retry-After"] = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    return;
                }
                if (Latency > TimeSpan.Zero) await Task.Delay(Latency, c.RequestAborted);
                byte[] bytes = _files[index].Bytes;
                if (Stall == "headers") { await Forever(c); return; }
                if (Stall == "body")
                {
                    c.Response.ContentLength = bytes.Length;
                    await c.Response.Body.WriteAsync(bytes.AsMemory(0, 1), c.RequestAborted);
                    await c.Response.Body.FlushAsync(c.RequestAborted);
                    await Forever(c);
                    return;
                }
                c.Response.ContentType = "application/octet-stream";
                c.Response.ContentLength = bytes.Length;
                await c.Response.Body.WriteAsync(bytes, c.RequestAborted);
            }
            catch (OperationCanceledException) { } // the client gave up
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        private static async Task Forever(HttpContext c)
        {
            try { await Task.Delay(Timeout.Infinite, c.RequestAborted); }
            catch (OperationCanceledException) { }
        }

        /// <summary>The run as the retrieval endpoint would describe it: finished, one link per file.</summary>
        public RunSnapshot Run(string messageId = "run-1") => new RunSnapshot
        {
            MessageId = messageId,
            Status = "success",
            State = RunStates.Parse("success"),
            RetrievedAt = DateTimeOffset.UtcNow,
            Results = _files.Select((f, i) => new ResultLink(f.Name, new Uri(_address, $"files/{i}"), null, f.Bytes.Length)).ToList(),
        };

        public int RequestsFor(int index) => _requests.TryGetValue(index, out int n) ? n : 0;

        /// <summary>A client for the downloads (the API itself is never asked: the run is finished and its links fresh).</summary>
        public static NenApiClient Client(int maximumRetryCount = NenClientOptions.DefaultMaximumRetryCount, Action<NenClientOptions>? configure = null)
        {
            var options = NenClientOptions.Resolve("http://127.0.0.1:9/", TestEmulator.Secret("k"), environment: _ => null);
            options.MaximumRetryCount = maximumRetryCount;
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
            configure?.Invoke(options);
            return new NenApiClient(options);
        }

        public static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

        /// <summary>A zip archive holding <paramref name="entries"/> (name → text) in this order.</summary>
        public static byte[] Zip(params (string Name, string Text)[] entries)
        {
            using var buffer = new MemoryStream();
            using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            {
                foreach (var (name, text) in entries)
                {
                    using Stream s = zip.CreateEntry(name).Open();
                    s.Write(Encoding.UTF8.GetBytes(text));
                }
            }
            return buffer.ToArray();
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
