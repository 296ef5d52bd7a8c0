using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Logging;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Core.Webhooks;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Polling is the receiver's safety net, never a tripwire: a refused key or an API out of reach is one warning, the
    /// runs are still followed by their webhooks until their deadline, and the runs neither path finished are named in
    /// one error with the reason. And a receiver ends cleanly: no poll that outlives it throws in a task nobody observes.
    /// </summary>
    public class WebhookPollingFallbackTests
    {
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

        private sealed class Waiting : IDisposable
        {
            private readonly SecretValue _secret = TestEmulator.Secret(TestEmulator.WebhookSecret);

            public Waiting(NenApiClient client, TimeSpan? timeout = null, TimeSpan? fallbackAfter = null, INenLog? log = null)
            {
                Url = WebhookTraffic.Prefix(WebhookTraffic.FreePort());
                Receiver = new WebhookReceiver(new WebhookReceiverOptions
                {
                    Listener = new WebhookListenerOptions { Prefixes = new[] { Url }, Secrets = new[] { _secret } },
                    WaitForRuns = true,
                    FallbackAfter = fallbackAfter ?? TimeSpan.FromMilliseconds(300),
                    PollInterval = TimeSpan.FromMilliseconds(100),
                    Timeout = timeout,
                }, client, UpdateLedger.InMemory(), log ?? Log);
                Receiver.Start(default);
            }

            public string Url { get; }
            public WebhookReceiver Receiver { get; }
            public CapturingLog Log { get; } = new CapturingLog();

            public Task<HttpStatusCode> PostAsync(string id, string status) => WebhookTraffic.PostSignedAsync(Url, TestEmulator.WebhookSecret, id, status);

            public async Task<List<ReceivedItem>> DrainAsync()
            {
                var items = new List<ReceivedItem>();
                var clock = Stopwatch.StartNew();
                while (!Receiver.IsDone)
                {
                    if (clock.Elapsed > Generous) throw new TimeoutException($"The receiver was not done after {Generous}: {Receiver.Counters}");
                    ReceivedItem? item = await Receiver.TakeAsync(TimeSpan.FromSeconds(1));
                    if (item != null) items.Add(item);
                }
                return items;
            }

            public void Dispose()
            {
                Receiver.Dispose();
                _secret.Dispose();
            }
        }

        [Fact]
        public async Task ARefusedKeyIsOneWarningAndEveryRunWhoseWebhookComesIsStillWritten()
        {
            await using TestEmulator emulator = await TestEmulator.StartAsync();
            using var waiting = new Waiting(emulator.Client(apiKey: "a-key-the-service-refuses"), timeout: TimeSpan.FromSeconds(60));
            var ids = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid().ToString()).ToList();
            foreach (string id in ids) waiting.Receiver.Add(id, "row " + id);
            waiting.Receiver.CompleteAdding();

            // The first polls (after 0.3 s) are refused: polling stops for good, and the receiver keeps listening.
            Assert.True(await Eventually.TrueAsync(() => waiting.Receiver.PollingStoppedBecause != null));
            Assert.Equal(NenErrorIds.Unauthorized, waiting.Receiver.PollingStoppedBecause!.ErrorId);
            Assert.True(waiting.Receiver.IsListening);
            int polls = emulator.State.GetRuns;
            foreach (string id in ids) Assert.Equal(HttpStatusCode.OK, await waiting.PostAsync(id, "success"));

            List<ReceivedItem> items = await waiting.DrainAsync();

            Assert.Equal(ids.OrderBy(x => x), items.Select(i => i.MessageId).OrderBy(x => x));
            Assert.All(items, i => Assert.Equal(ReceivedItemKind.Update, i.Kind));
            Assert.All(items, i => Assert.False(i.ByPolling));
            // Before: "Polling stopped: the The API key was refused was refused (HTTP 401)".
            Assert.Single(waiting.Log.Lines, l => l.StartsWith("WARNING: Polling stopped: the API key was refused (HTTP 401). Check -ApiKey"));
            Assert.InRange(polls, 1, ids.Count); // the polls in flight when the key was refused, no more
            Assert.Equal(polls, emulator.State.GetRuns);
        }

        /// <summary>
        /// A log whose "Polling stopped" warning is slow to be written, as on a loaded machine where the thread writing it
        /// is not run for a while: it is written once the receiver says it is done (half a second later), or after 2 s.
        /// </summary>
        private sealed class SlowPollingWarningLog : INenLog
        {
            private readonly CapturingLog _lines = new CapturingLog();
            public WebhookReceiver? Receiver { get; set; }
            public volatile bool Writing;
            public IReadOnlyCollection<string> Lines => _lines.Lines;
            public void Verbose(string message) => _lines.Verbose(message);
            public void Debug(string message) => _lines.Debug(message);

            public void Warning(string message)
            {
                if (message.StartsWith("Polling stopped", StringComparison.Ordinal))
                {
                    Writing = true;
                    if (SpinWait.SpinUntil(() => Receiver?.IsDone == true, TimeSpan.FromSeconds(2))) Thread.Sleep(500);
                }
                _lines.Warning(message);
            }
        }

        [Fact]
        public async Task APollingWarningBeingWrittenIsOutBeforeTheReceiverSaysItIsDone()
        {
            // The watch for late runs writes "Polling stopped" as the last run is reported: the receiver said it was done
            // (and Receive-NenWebhook ended) while that warning was still being written, so it came after the end or never
            // (a loaded run: ARefusedKeyIsOneWarningAndEveryRunWhoseWebhookComesIsStillWritten found no such warning).
            await using TestEmulator emulator = await TestEmulator.StartAsync();
            var log = new SlowPollingWarningLog();
            using var waiting = new Waiting(emulator.Client(apiKey: "a-key-the-service-refuses"), timeout: Generous, log: log);
            log.Receiver = waiting.Receiver;
            string id = Guid.NewGuid().ToString();
            waiting.Receiver.Add(id, "row " + id);
            waiting.Receiver.CompleteAdding();
            Assert.True(await Eventually.TrueAsync(() => log.Writing), "polling never stopped");

            Assert.Equal(HttpStatusCode.OK, await waiting.PostAsync(id, "success"));
            List<ReceivedItem> items = await waiting.DrainAsync();

            Assert.Equal(id, Assert.Single(items).MessageId);
            Assert.Single(log.Lines, l => l.StartsWith("WARNING: Polling stopped: the API key was refused (HTTP 401)."));
        }

        [Fact]
        public async Task TheRunsNeitherPathFinishedAreNamedInOneErrorWithTheReasonAtTheirDeadline()
        {
            await using TestEmulator emulator = await TestEmulator.StartAsync();
            using var waiting = new Waiting(emulator.Client(apiKey: "a-key-the-service-refuses"), timeout: TimeSpan.FromSeconds(3));
            var ids = Enumerable.Range(0, 5).Select(i => $"run-{i}-{Guid.NewGuid():N}").ToList();
            foreach (string id in ids) waiting.Receiver.Add(id);
            waiting.Receiver.CompleteAdding();
            Assert.True(await Eventually.TrueAsync(() => waiting.Receiver.PollingStoppedBecause != null));
            // Three runs finish by webhook; one more says it is processing and goes quiet; the last says nothing.
            for (int i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, await waiting.PostAsync(ids[i], "failed"));
            Assert.Equal(HttpStatusCode.OK, await waiting.PostAsync(ids[3], "processing"));

            List<ReceivedItem> items = await waiting.DrainAsync();

            Assert.Equal(ids.Take(3), items.Where(i => i.Kind == ReceivedItemKind.Update).Select(i => i.MessageId).OrderBy(id => ids.IndexOf(id!)));
            ReceivedItem quiet = Assert.Single(items, i => i.Kind == ReceivedItemKind.TimedOut);
            Assert.Equal(ids[3], quiet.MessageId);
            Assert.Equal("processing", quiet.Status!.Status);
            Assert.Null(quiet.Error); // named in the one error below, not in an error of its own
            ReceivedItem error = Assert.Single(items, i => i.Kind == ReceivedItemKind.Error);
            Assert.Equal(NenErrorIds.Unauthorized, error.Error!.ErrorId);
            Assert.Equal(NenErrorCategory.AuthenticationError, error.Error.Category);
            Assert.StartsWith("2 run(s) had not finished when their wait of 3 s ran out", error.Error.Message);
            Assert.Contains(ids[3], error.Error.Message);
            Assert.Contains(ids[4], error.Error.Message);
            Assert.Contains("API key", error.Error.Message);
            Assert.Equal(new[] { ids[3], ids[4] }, (string[])error.Tag!);
            Assert.Same(items.Last(), error);
        }

        [Fact]
        public async Task AnApiNoConnectionReachesIsOneWarningAndTheWebhooksStillFinishTheRuns()
        {
            int nobody = WebhookTraffic.FreePort();
            NenClientOptions options = NenClientOptions.Resolve($"http://127.0.0.1:{nobody}", TestEmulator.Secret(TestEmulator.ApiKey), environment: _ => null);
            options.MaximumRetryCount = 1;
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            var client = new NenApiClient(options);
            using var waiting = new Waiting(client, timeout: TimeSpan.FromSeconds(60), fallbackAfter: TimeSpan.FromMilliseconds(100));
            var ids = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid().ToString()).ToList();
            foreach (string id in ids) waiting.Receiver.Add(id);
            waiting.Receiver.CompleteAdding();

            Assert.True(await Eventually.TrueAsync(() => waiting.Receiver.PollingStoppedBecause != null), "polling never gave up on an API nothing answers");
            foreach (string id in ids) Assert.Equal(HttpStatusCode.OK, await waiting.PostAsync(id, "success"));
            List<ReceivedItem> items = await waiting.DrainAsync();

            Assert.Equal(5, items.Count(i => i.Kind == ReceivedItemKind.Update));
            Assert.Equal(5, items.Count);
            Assert.Single(waiting.Log.Lines, l => l.StartsWith("WARNING: Polling stopped:"));
            Assert.DoesNotContain(waiting.Log.Lines, l => l.StartsWith("WARNING: Run "));
        }

        /// <summary>
        /// Acceptance (real pwsh): GET /runs/{id} answering a captive portal's page or a 418 made the receiver give up on
        /// its 4 runs after about 4 s, one error each, and the webhooks that came later were never answered. Answers that
        /// are not the API's stop polling as a refused key does: one warning, no more queries, the webhooks finish the runs.
        /// </summary>
        [Theory]
        [InlineData(200, "text/html", "<html>login</html>", NenErrorIds.UnexpectedResponse)]
        [InlineData(200, "text/plain", "not json at all", NenErrorIds.UnexpectedResponse)]
        [InlineData(418, "text/plain", "I'm a teapot", NenErrorIds.HttpError)]
        public async Task AnswersThatAreNotTheApisOnEveryPollStopPollingWithOneWarningAndTheWebhooksStillFinishTheRuns(int status, string contentType, string body, string errorId)
        {
            await using TestEmulator emulator = await TestEmulator.StartAsync();
            var fault = new ScriptedFault { Kind = "raw", Route = "GET /runs", Count = 1_000_000, StatusCode = status, Body = body };
            fault.Headers["Content-Type"] = contentType;
            await emulator.ScriptAsync(fault);
            using var waiting = new Waiting(emulator.Client(), timeout: Generous, fallbackAfter: TimeSpan.FromMilliseconds(100));
            var ids = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid().ToString()).ToList();
            foreach (string id in ids) waiting.Receiver.Add(id, "row " + id);
            waiting.Receiver.CompleteAdding();

            Assert.True(await Eventually.TrueAsync(() => waiting.Receiver.PollingStoppedBecause != null), "polling never stopped: " + string.Join(" | ", waiting.Log.Lines));
            Assert.Equal(errorId, waiting.Receiver.PollingStoppedBecause!.ErrorId);
            Assert.True(waiting.Receiver.IsListening);
            int polls = emulator.State.GetRuns;
            foreach (string id in ids) Assert.Equal(HttpStatusCode.OK, await waiting.PostAsync(id, "success"));
            List<ReceivedItem> items = await waiting.DrainAsync();

            Assert.Equal(ids.OrderBy(x => x), items.Select(i => i.MessageId).OrderBy(x => x));
            Assert.All(items, i => Assert.Equal(ReceivedItemKind.Update, i.Kind));
            Assert.Equal((4, 0, 0), (waiting.Receiver.Finished, waiting.Receiver.StatusUnknown, waiting.Receiver.TimedOut));
            Assert.Single(waiting.Log.Lines, l => l.StartsWith("WARNING: Polling stopped: the status queries were answered, but not as the Nen API answers (" + errorId));
            Assert.DoesNotContain(waiting.Log.Lines, l => l.StartsWith("WARNING: Run "));
            Assert.InRange(polls, 1, 2 * ids.Count); // each run asked once and once more at most, then no more
            Assert.Equal(polls, emulator.State.GetRuns);
        }

        /// <summary>
        /// A run the service does not know (404 run_not_found: a wrong id, or one just started) is that run's own answer,
        /// and polling is a safety net: the run is still followed by its webhook until its deadline, asked again at the
        /// poll interval, and a run neither path finished is named in the one error at the end, with that reason.
        /// </summary>
        [Fact]
        public async Task ARunTheServiceDoesNotKnowIsStillFollowedByItsWebhookAndNamedInTheOneErrorAtItsDeadline()
        {
            await using TestEmulator emulator = await TestEmulator.StartAsync();
            using var waiting = new Waiting(emulator.Client(), timeout: TimeSpan.FromSeconds(5), fallbackAfter: TimeSpan.FromMilliseconds(100));
            string finishes = Guid.NewGuid().ToString(), quiet = Guid.NewGuid().ToString(); // neither is known to the service
            waiting.Receiver.Add(finishes);
            waiting.Receiver.Add(quiet);
            waiting.Receiver.CompleteAdding();
            Assert.True(await Eventually.TrueAsync(() => emulator.State.GetsFor(finishes) >= 2 && emulator.State.GetsFor(quiet) >= 2), "the runs were not polled");

            Assert.Equal(HttpStatusCode.OK, await waiting.PostAsync(finishes, "success"));
            List<ReceivedItem> items = await waiting.DrainAsync();

            Assert.Equal(finishes, Assert.Single(items, i => i.Kind == ReceivedItemKind.Update).MessageId);
            ReceivedItem error = Assert.Single(items, i => i.Kind == ReceivedItemKind.Error);
            Assert.Equal(2, items.Count);
            Assert.Equal(NenErrorIds.RunNotFound, error.Error!.ErrorId);
            Assert.Equal(new[] { quiet }, (string[])error.Tag!);
            Assert.StartsWith("1 run(s) had not finished when their wait of 5 s ran out", error.Error.Message);
            Assert.Null(waiting.Receiver.PollingStoppedBecause); // one run's answer, not everyone's
            Assert.Equal((1, 1, 0), (waiting.Receiver.Finished, waiting.Receiver.TimedOut, waiting.Receiver.StatusUnknown));
        }

        [Fact]
        public async Task APollStillOnTheWireWhenTheReceiverEndsThrowsInNoTaskNobodyObserves()
        {
            var unobserved = new List<Exception>();
            void Record(object? sender, UnobservedTaskExceptionEventArgs e)
            {
                lock (unobserved) unobserved.AddRange(e.Exception.Flatten().InnerExceptions.Where(x => x is ObjectDisposedException && (x.StackTrace ?? string.Empty).Contains("NenAi.Core")));
            }
            TaskScheduler.UnobservedTaskException += Record;
            try
            {
                await using TestEmulator emulator = await TestEmulator.StartAsync();
                await emulator.ScriptAsync(new ScriptedFault { Kind = "latency", Route = "GET /runs", LatencyMs = 1500, Count = 1 });
                string id = Guid.NewGuid().ToString();
                var waiting = new Waiting(emulator.Client(), timeout: TimeSpan.FromSeconds(60), fallbackAfter: TimeSpan.FromMilliseconds(50));
                waiting.Receiver.Add(id);
                waiting.Receiver.CompleteAdding();
                Assert.True(await Eventually.TrueAsync(() => emulator.State.GetRuns == 1));
                // The final webhook comes while the poll is on the wire: the receiver is done and is disposed.
                Assert.Equal(HttpStatusCode.OK, await waiting.PostAsync(id, "success"));
                Assert.Single(await waiting.DrainAsync());
                Assert.False(waiting.Receiver.WhenIdleAsync().IsCompleted); // the poll is still on the wire
                waiting.Dispose();

                // Disposing ended it (cancelled), and everything else the receiver ran: nothing is left to fail later.
                // (The poll had about 1.4 s of the emulator's latency left: had it not been cancelled, it would still be on the wire.)
                Task idle = waiting.Receiver.WhenIdleAsync();
                Assert.Same(idle, await Task.WhenAny(idle, Task.Delay(TimeSpan.FromSeconds(1))));
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
            }
            finally
            {
                TaskScheduler.UnobservedTaskException -= Record;
            }
            lock (unobserved) Assert.Empty(unobserved);
        }

    }
}
