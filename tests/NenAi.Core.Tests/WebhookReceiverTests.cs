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
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Core.Webhooks;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// A receiver waiting for a batch's runs, against the emulator's real (and faulty) webhooks: each run's final
    /// status comes out exactly once, by webhook or, when the webhook is lost, by polling; updates that arrive
    /// before their run is added are kept; deadlines report runs as Wait-NenRun does.
    /// </summary>
    public class WebhookReceiverTests
    {
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
        private readonly ITestOutputHelper _output;

        public WebhookReceiverTests(ITestOutputHelper output) => _output = output;

        private sealed class Batch : IAsyncDisposable
        {
            private readonly SecretValue _secret = TestEmulator.Secret(TestEmulator.WebhookSecret);

            private Batch(TestEmulator emulator, Action<WebhookReceiverOptions>? configure, UpdateLedger? ledger)
            {
                Emulator = emulator;
                Client = emulator.Client();
                Url = WebhookTraffic.Prefix(WebhookTraffic.FreePort());
                var options = new WebhookReceiverOptions
                {
                    Listener = new WebhookListenerOptions { Prefixes = new[] { Url }, Secrets = new[] { _secret } },
                    WaitForRuns = true,
                    FallbackAfter = TimeSpan.FromMilliseconds(300),
                    PollInterval = TimeSpan.FromMilliseconds(100),
                };
                configure?.Invoke(options);
                Receiver = new WebhookReceiver(options, Client, ledger ?? UpdateLedger.InMemory(), Log);
                Receiver.Start(default);
            }

            public static async Task<Batch> StartAsync(Action<EmulatorConfig>? emulator = null, Action<WebhookReceiverOptions>? receiver = null, UpdateLedger? ledger = null) =>
                new Batch(await TestEmulator.StartAsync(emulator), receiver, ledger);

            public TestEmulator Emulator { get; }
            public NenApiClient Client { get; }
            public string Url { get; }
            public WebhookReceiver Receiver { get; }
            public CapturingLog Log { get; } = new CapturingLog();

            public async Task<string> StartRunAsync(string name = "Ada", string workflow = TestEmulator.EchoWorkflow)
            {
                var request = new RunRequest(workflow);
                request.Parameters.Add(new KeyValuePair<string, object?>("NAME", name));
                request.WebhookCallback = new Uri(Url);
                return (await Client.StartRunAsync(request)).MessageId;
            }

            /// <summary>Everything the receiver hands out until it is done.</summary>
            public async Task<List<ReceivedItem>> DrainAsync()
            {
                var items = new List<ReceivedItem>();
                var clock = Stopwatch.StartNew();
                while (!Receiver.IsDone)
                {
                    if (clock.Elapsed > Generous) throw new TimeoutException($"The receiver was not done after {Generous}: {Receiver.Counters}");
                    ReceivedItem? item = await Receiver.TakeAsync(TimeSpan.FromSeconds(1));
                    if (item is null) continue;
                    items.Add(item);
                    Receiver.MarkHandled(item);
                }
                return items;
            }

            public async ValueTask DisposeAsync()
            {
                Receiver.Dispose();
                _secret.Dispose();
                await Emulator.DisposeAsync();
            }
        }

        [Fact]
        public async Task EachRunsFinalWebhookEndsItWithoutARequestAndTheReceiverIsDoneAndFreesThePort()
        {
            await using var batch = await Batch.StartAsync(receiver: o => o.FallbackAfter = TimeSpan.FromSeconds(30));
            var ids = new List<string>();
            for (int i = 0; i < 5; i++)
            {
                string id = await batch.StartRunAsync(i == 2 ? "FAIL" : "ok");
                ids.Add(id);
                Assert.Equal(WebhookReceiver.AddResult.Added, batch.Receiver.Add(id, "row" + i));
            }
            batch.Receiver.CompleteAdding();

            List<ReceivedItem> items = await batch.DrainAsync();

            Assert.Equal(ids.OrderBy(x => x), items.Select(i => i.MessageId).OrderBy(x => x));
            Assert.All(items, i => Assert.Equal(ReceivedItemKind.Update, i.Kind));
            Assert.All(items, i => Assert.False(i.ByPolling));
            Assert.Equal("failed", items.Single(i => i.Tag as string == "row2").Status!.Status);
            Assert.All(ids, id => Assert.Equal(0, batch.Emulator.State.GetsFor(id)));
            Assert.True(WebhookTraffic.CanListen(batch.Url));
        }

        [Fact]
        public async Task CancellingItsTokenStopsListeningAtOnceSoNothingMoreIsAnswered200()
        {
            // The cmdlet cancels the token when an error ends it (-ErrorAction Stop) or a later command takes no more
            // (Select-Object -First): the listener went on answering 200 to deliveries nobody would write, and held the
            // port until the command was disposed (the request timeout and more later).
            using SecretValue secret = TestEmulator.Secret(TestEmulator.WebhookSecret);
            string url = WebhookTraffic.Prefix(WebhookTraffic.FreePort());
            using var stop = new CancellationTokenSource();
            using var receiver = new WebhookReceiver(new WebhookReceiverOptions
            {
                Listener = new WebhookListenerOptions { Prefixes = new[] { url }, Secrets = new[] { secret } },
            }, null, UpdateLedger.InMemory());
            receiver.Start(stop.Token);
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(url, TestEmulator.WebhookSecret, "before", "success"));

            stop.Cancel();

            Assert.False(receiver.IsListening);
            Assert.True(WebhookTraffic.CanListen(url), "the port is still held");
            Task idle = receiver.WhenIdleAsync();
            Assert.True(idle == await Task.WhenAny(idle, Task.Delay(Generous)), "the receiver still runs in the background");
        }

        [Fact]
        public async Task UpdatesThatArriveBeforeTheirRunIsAddedAreKeptUntilItIs()
        {
            await using var batch = await Batch.StartAsync(receiver: o => o.FallbackAfter = TimeSpan.FromSeconds(30));
            string id = await batch.StartRunAsync();
            // The run's final webhook is answered before the run reaches the receiver (as when Start-NenRun is slow to write it).
            Assert.True(await Eventually.TrueAsync(() => batch.Emulator.State.Deliveries.Any(d => d.MessageId == id && d.Status == "success" && d.HttpStatus == 200)));

            batch.Receiver.Add(id, "late row");
            batch.Receiver.CompleteAdding();
            List<ReceivedItem> items = await batch.DrainAsync();

            ReceivedItem item = Assert.Single(items);
            Assert.Equal("success", item.Status!.Status);
            Assert.Equal("late row", item.Tag);
            Assert.False(item.ByPolling);
            Assert.Equal(0, batch.Emulator.State.GetsFor(id));
        }

        [Fact]
        public async Task TimeoutCancelledAndCompletedFinishRunsWaitedForAndAnUnknownStatusIsWarnedOfByItsRow()
        {
            // Runs the emulator never saw: only the webhooks sent here can finish them, and no poll comes in time.
            await using var batch = await Batch.StartAsync(receiver: o =>
            {
                o.FallbackAfter = TimeSpan.FromSeconds(30);
                o.RowOf = tag => tag as string;
            });
            var finals = new[] { "timeout", "Cancelled", "canceled", "completed" };
            var ids = finals.Select(_ => Guid.NewGuid().ToString()).ToArray();
            for (int i = 0; i < ids.Length; i++) batch.Receiver.Add(ids[i], $"row {i + 1}");
            batch.Receiver.CompleteAdding();

            // Run 1 says something this version does not know first: still running, named by its row.
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(batch.Url, TestEmulator.WebhookSecret, ids[0], "exploded"));
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(batch.Url, TestEmulator.WebhookSecret, ids[0], "exploded"));
            for (int i = 0; i < ids.Length; i++)
                Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(batch.Url, TestEmulator.WebhookSecret, ids[i], finals[i]));
            List<ReceivedItem> items = await batch.DrainAsync();

            Assert.Equal(finals, ids.Select(id => items.Single(item => item.MessageId == id).Status!.Status));
            Assert.All(items, item => Assert.False(item.ByPolling));
            Assert.Equal(4, batch.Receiver.Finished);
            Assert.Equal(3, batch.Receiver.Failed); // timeout and cancelled are failure-like; completed is success
            Assert.Equal(0, batch.Emulator.State.GetRuns);
            string warning = Assert.Single(batch.Log.Lines, l => l.StartsWith("WARNING:") && l.Contains("'exploded'"));
            Assert.Contains($"Row 1 (run {ids[0]})", warning);
            Assert.Contains("still waited for", warning);
        }

        [Fact]
        public async Task UpdatesOfRunsNotWaitedForAreIgnored()
        {
            await using var batch = await Batch.StartAsync(receiver: o => o.FallbackAfter = TimeSpan.FromSeconds(30));
            string mine = await batch.StartRunAsync();
            string other = await batch.StartRunAsync();
            Assert.True(await Eventually.TrueAsync(() => batch.Emulator.State.Deliveries.Count(d => d.Status == "success" && d.HttpStatus == 200) == 2));

            batch.Receiver.Add(mine);
            batch.Receiver.CompleteAdding();
            List<ReceivedItem> items = await batch.DrainAsync();

            Assert.Equal(mine, Assert.Single(items).MessageId);
            Assert.Equal(2, batch.Receiver.Counters.Ignored); // the other run's processing and success
            Assert.DoesNotContain(items, i => i.MessageId == other);
        }

        [Fact]
        public async Task ALostFinalWebhookIsPolledSoTheRunIsDelayedNeverLostAndAWarningNamesIt()
        {
            // Polling starts 2 s after a run joined: the fine run's webhook comes well before (300 ms was too short for a
            // loaded machine, where the fine run was polled once too).
            await using var batch = await Batch.StartAsync(receiver: o => o.FallbackAfter = TimeSpan.FromSeconds(2));
            await batch.Emulator.ScriptWebhooksAsync(new ScriptedWebhookFault { Count = 1, Drop = { "final" } });
            string lost = await batch.StartRunAsync();
            string fine = await batch.StartRunAsync();
            batch.Receiver.Add(lost);
            batch.Receiver.Add(fine);
            batch.Receiver.CompleteAdding();

            List<ReceivedItem> items = await batch.DrainAsync();

            Assert.True(items.Single(i => i.MessageId == lost).ByPolling);
            Assert.False(items.Single(i => i.MessageId == fine).ByPolling);
            Assert.Equal("success", items.Single(i => i.MessageId == lost).Status!.Status);
            Assert.Equal(1, batch.Receiver.Counters.CompletedByPolling);
            Assert.True(batch.Emulator.State.GetsFor(lost) >= 1);
            Assert.Equal(0, batch.Emulator.State.GetsFor(fine));
            string warning = Assert.Single(batch.Log.Lines, l => l.StartsWith("WARNING: No final webhook"));
            Assert.Contains(lost, warning);
            Assert.DoesNotContain(fine, warning);
        }

        [Fact]
        public async Task ARunStillGoingAtItsDeadlineIsReportedAsWaitNenRunReportsIt()
        {
            await using var batch = await Batch.StartAsync(receiver: o =>
            {
                o.Timeout = TimeSpan.FromSeconds(1.5);
                o.FallbackAfter = TimeSpan.FromSeconds(30);
            });
            string id = await batch.StartRunAsync(workflow: TestEmulator.SlowWorkflow);
            batch.Receiver.Add(id, "slow row");
            batch.Receiver.CompleteAdding();

            ReceivedItem item = Assert.Single(await batch.DrainAsync());

            Assert.Equal(ReceivedItemKind.TimedOut, item.Kind);
            Assert.Equal(NenErrorIds.WaitTimeout, item.Error!.ErrorId);
            Assert.Equal(NenErrorCategory.OperationTimeout, item.Error.Category);
            Assert.Equal("processing", item.Status!.Status); // its last status, from the processing webhook
            Assert.Contains("'processing'", item.Error.Message);
            Assert.Equal("slow row", item.Tag);
            Assert.Equal(0, batch.Emulator.State.GetsFor(id));
        }

        [Fact]
        public async Task AStateFileKeepsARestartedReceiverFromActingTwiceOnAReplay()
        {
            string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nenai-ledger-" + Guid.NewGuid().ToString("N"), "seen.jsonl");
            string id;
            using (var firstLedger = UpdateLedger.Open(path))
            await using (var first = await Batch.StartAsync(receiver: o => o.FallbackAfter = TimeSpan.FromSeconds(30), ledger: firstLedger))
            {
                id = await first.StartRunAsync();
                first.Receiver.Add(id);
                first.Receiver.CompleteAdding();
                Assert.Single(await first.DrainAsync());
            }

            using (var ledger = UpdateLedger.Open(path))
            {
                Assert.True(ledger.FinishedBefore(id));
                Assert.Equal(UpdateLedger.ClaimResult.Duplicate, ledger.Claim(id, "SUCCESS")); // a replay of the same update, whatever its case
                Assert.Equal(UpdateLedger.ClaimResult.AfterFinal, ledger.Claim(id, "processing")); // nothing of a finished run is acted on again
            }
            // A receiver restarted on the same file: the same run is recognised as done, and a replay is a duplicate.
            using var secret = TestEmulator.Secret(TestEmulator.WebhookSecret);
            string url = WebhookTraffic.Prefix(WebhookTraffic.FreePort());
            using var restartedLedger = UpdateLedger.Open(path);
            using var restarted = new WebhookReceiver(new WebhookReceiverOptions { Listener = new WebhookListenerOptions { Prefixes = new[] { url }, Secrets = new[] { secret } } }, null, restartedLedger);
            restarted.Start(default);
            Assert.Equal(HttpStatusCode.OK, await WebhookTraffic.PostSignedAsync(url, TestEmulator.WebhookSecret, id, "success"));
            Assert.Null(await restarted.TakeAsync(TimeSpan.FromMilliseconds(500)));
            Assert.Equal(1, restarted.Counters.Duplicates);
        }

        [Fact]
        public async Task ARunWhoseFinalUpdateTheStateFileRecordsIsNotWaitedForAgain()
        {
            string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nenai-ledger-" + Guid.NewGuid().ToString("N") + ".jsonl");
            System.IO.File.WriteAllText(path, "{\"message_id\":\"done-run\",\"status\":\"success\",\"at\":\"2026-01-01T00:00:00Z\"}\n{\"message_id\":\"torn");
            using var ledger = UpdateLedger.Open(path);
            Assert.Equal(1, ledger.UnreadableLines);

            await using var batch = await Batch.StartAsync(ledger: ledger);
            Assert.Equal(WebhookReceiver.AddResult.HandledBefore, batch.Receiver.Add("done-run"));
            batch.Receiver.CompleteAdding();

            Assert.Empty(await batch.DrainAsync());
            Assert.Equal(0, batch.Emulator.State.GetRuns);
            // The torn line does not swallow the next record.
            batch.Receiver.MarkHandled(new ReceivedItem(ReceivedItemKind.Update, "next-run", null, new RunSnapshot { MessageId = "next-run", Status = "success" }, null, false));
            Assert.Contains("{\"message_id\":\"next-run\"", System.IO.File.ReadAllLines(path).Last());
        }

        [Fact]
        public void OneReceiverAtATimeMayHoldAStateFile()
        {
            string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nenai-ledger-" + Guid.NewGuid().ToString("N") + ".jsonl");
            using var first = UpdateLedger.Open(path);

            var error = Assert.Throws<NenException>(() => UpdateLedger.Open(path));

            Assert.Equal(NenErrorIds.WebhookStateInUse, error.ErrorId);
        }

        /// <summary>
        /// Fifty runs with every delivery fault the emulator has, at once: a fifth of the updates duplicated, a tenth
        /// lost, deliveries delayed by up to half a second (so they overtake each other) and a tenth of the runs
        /// reordered. Each run comes out exactly once, with its final status; the lost ones by polling.
        /// </summary>
        [Fact]
        public async Task EveryRunComesOutExactlyOnceWhateverTheWebhooksDo()
        {
            await using var batch = await Batch.StartAsync(
                emulator: c =>
                {
                    c.Webhooks = new WebhookConfig { DuplicateRate = 0.2, DropRate = 0.1, DelayJitterMs = 500, ReorderRate = 0.1, Seed = 19 };
                    c.Workflows.Single(w => w.Id == TestEmulator.EchoWorkflow).DurationMs = 200;
                },
                receiver: o => o.FallbackAfter = TimeSpan.FromSeconds(2));
            var clock = Stopwatch.StartNew();
            var ids = new List<string>();
            for (int i = 0; i < 50; i++)
            {
                string id = await batch.StartRunAsync(i % 10 == 0 ? "FAIL" : "row" + i);
                ids.Add(id);
                batch.Receiver.Add(id, i);
            }
            batch.Receiver.CompleteAdding();

            List<ReceivedItem> items = await batch.DrainAsync();

            Assert.Equal(ids.OrderBy(x => x), items.Select(i => i.MessageId).OrderBy(x => x));
            Assert.All(items, i => Assert.True(i.Status!.IsTerminal));
            Assert.Equal(5, items.Count(i => i.Status!.Status == "failed"));
            var deliveries = batch.Emulator.State.Deliveries;
            var lostFinals = deliveries.Where(d => d.Failure == "dropped" && d.Status != "processing").Select(d => d.MessageId).ToHashSet();
            Assert.NotEmpty(lostFinals);
            Assert.All(items.Where(i => lostFinals.Contains(i.MessageId!)), i => Assert.True(i.ByPolling));
            Assert.True(batch.Receiver.Counters.Duplicates > 0);
            _output.WriteLine($"50 runs in {clock.Elapsed.TotalSeconds:0.0} s: {deliveries.Count(d => d.Attempt > 0)} deliveries, {deliveries.Count(d => d.Failure == "dropped")} dropped; {batch.Receiver.Counters}");
        }

    }
}
