using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using NenAi.TestSupport;
using NenAi.Core.Errors;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Core.Waiting;
using NenAi.Emulator;
using Xunit;

namespace NenAi.Core.Tests
{
    public class RunWaiterTests
    {
        private static async Task<List<WaitOutcome>> WaitAll(RunWaiter waiter, IEnumerable<string> ids)
        {
            var list = new List<WaitOutcome>();
            await foreach (var o in waiter.WaitAllAsync(ids)) list.Add(o);
            return list;
        }

        [Fact]
        public async Task EveryRunIsReportedOnceWithItsTerminalStatus()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            var ids = new List<string>();
            for (int i = 0; i < 10; i++) ids.Add((await client.StartRunAsync(Requests.Echo(i == 3 ? "FAIL" : "ok" + i))).MessageId);
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50) });
            var outcomes = await WaitAll(waiter, ids);
            Assert.Equal(ids.OrderBy(x => x), outcomes.Select(o => o.MessageId).OrderBy(x => x));
            Assert.All(outcomes, o => Assert.Equal(WaitOutcomeKind.Completed, o.Kind));
            var failed = Assert.Single(outcomes, o => o.Status!.State == RunState.Failed);
            Assert.Equal(ids[3], failed.MessageId);
            Assert.Equal("The echo workflow was asked to fail.", failed.Status!.Error);
            Assert.Equal(9, waiter.Succeeded);
            Assert.Equal(1, waiter.Failed);
        }

        [Fact]
        public async Task EachRunIsPolledAtMostOncePerInterval()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Workflows.Find(w => w.Id == TestEmulator.EchoWorkflow)!.DurationMs = 1000);
            var client = emu.Client();
            string id = (await client.StartRunAsync(Requests.Echo())).MessageId;
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(250) });
            var sw = System.Diagnostics.Stopwatch.StartNew();
            await WaitAll(waiter, new[] { id });
            int gets = emu.State.GetsFor(id);
            // One poll at start plus at most one per elapsed interval.
            Assert.InRange(gets, 2, 1 + (int)Math.Ceiling(sw.Elapsed.TotalMilliseconds / 250.0));
        }

        [Fact]
        public async Task ForgottenRunIsReportedAsNotFound()
        {
            await using var emu = await TestEmulator.StartAsync();
            using var waiter = new RunWaiter(emu.Client(), new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50) });
            var outcome = Assert.Single(await WaitAll(waiter, new[] { Guid.NewGuid().ToString() }));
            Assert.Equal(WaitOutcomeKind.Error, outcome.Kind);
            Assert.Equal(NenErrorIds.RunNotFound, outcome.Error!.ErrorId);
            Assert.Equal((0, 1), (waiter.Failed, waiter.StatusUnknown)); // the service never said it failed
        }

        [Fact]
        public async Task AStatusOutageStopsTheWaitAfterAFewPollsAndNoRunIsCountedFailed()
        {
            // Issue 25: 20 runs, every GET a 500: 720 GETs, 20 errors and "20 failed" in 95 s.
            await using var emu = await TestEmulator.StartAsync();
            var setup = emu.Client();
            var ids = new List<string>();
            for (int i = 0; i < 20; i++) ids.Add((await setup.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId);
            emu.State.Faults.Replace(new FaultSettings { Rate500 = 1, ApplyTo = "get" });
            // The read outage window is at most the retry duration: 2 s keeps the test short.
            var client = emu.Client(o => { o.RetryBaseDelay = TimeSpan.FromMilliseconds(50); o.MaximumRetryDuration = TimeSpan.FromSeconds(2); });
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(100) });

            List<WaitOutcome> outcomes = await WaitAll(waiter, ids);

            Assert.Equal(20, outcomes.Count);
            Assert.All(outcomes, o => Assert.Equal(WaitOutcomeKind.Stopped, o.Kind));
            Assert.All(outcomes, o => Assert.Same(waiter.Circuit.ClosedBecause, o.Error)); // one reason for all
            Assert.Equal(NenAi.Core.Http.CircuitTrip.Failures, waiter.Circuit.Trip);
            Assert.Equal(NenErrorIds.ServerError, waiter.Circuit.ClosedBecause!.ErrorId);
            Assert.Equal((0, 0, 20), (waiter.Failed, waiter.StatusUnknown, waiter.NotFollowed));
            Assert.InRange(emu.State.GetRuns, 2, 16 + 10); // at most the 16 on the wire, then one probe at a time
        }

        [Fact]
        public async Task ARateLimitStormBeyondTheBudgetStopsTheWaitWithOneReasonAsItStopsABatch()
        {
            // Issue 25: what Start-NenRun's circuit knows governs the wait. Before, a wait waited out any storm, and each run
            // gave up on its own after its polls' retries: one NenStatusUnavailable per run.
            await using var emu = await TestEmulator.StartAsync();
            var setup = emu.Client();
            var ids = new List<string>();
            for (int i = 0; i < 10; i++) ids.Add((await setup.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId);
            await emu.ScriptAsync(new ScriptedFault { Kind = "429", Route = "GET /runs", Count = 1_000_000, RetryAfterSeconds = 0 });
            var client = emu.Client(o => o.MaximumRetryCount = 2);
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50) });

            List<WaitOutcome> outcomes = await WaitAll(waiter, ids);

            Assert.Equal(NenAi.Core.Http.CircuitTrip.Refusals, waiter.Circuit.Trip);
            Assert.Equal(NenErrorIds.RateLimited, waiter.Circuit.ClosedBecause!.ErrorId);
            Assert.All(outcomes, o => Assert.Equal(WaitOutcomeKind.Stopped, o.Kind));
            Assert.Equal((0, 0, 10), (waiter.Failed, waiter.StatusUnknown, waiter.NotFollowed));
            Assert.InRange(emu.State.GetRuns, 1, 30);
        }

        [Fact]
        public async Task WhenAnOutageShouldNotStopTheWaitThePollsArePacedAndEveryRunIsFollowedToTheEnd()
        {
            // A webhook receiver's polling is a safety net: a status outage must not stop it (RunWaiterOptions.StopAtOutage).
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client(o => { o.RetryBaseDelay = TimeSpan.FromMilliseconds(20); o.MaximumRetryDuration = TimeSpan.FromSeconds(1); });
            var ids = new List<string>();
            for (int i = 0; i < 6; i++) ids.Add((await client.StartRunAsync(Requests.Echo("r" + i))).MessageId);
            // Beyond the window (at most 1 s here) that would stop a Wait-NenRun: the first six fail together, then six probes in a row.
            await emu.ScriptAsync(new ScriptedFault { Kind = "500", Route = "GET /runs", Count = 12 });
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50), StopAtOutage = false, MaxConsecutiveFailures = 100 });

            List<WaitOutcome> outcomes = await WaitAll(waiter, ids);

            Assert.Equal(NenAi.Core.Http.CircuitTrip.None, waiter.Circuit.Trip);
            Assert.All(outcomes, o => Assert.Equal(RunState.Succeeded, o.Status!.State));
            Assert.True(waiter.Circuit.Pauses > 1, "the failed polls paused the others");
            Assert.InRange(emu.State.GetRuns, 6 + 12, 6 + 12 + 6); // the failures, then an answer per run (one more if still running)
        }

        [Fact]
        public async Task TransientFailuresAndRateLimitStormsDoNotLoseARun()
        {
            await using var emu = await TestEmulator.StartAsync();
            // A blip, short in time: ten failures in a row at the default 0.5 s back-off would span most of what the wait now
            // takes for a status outage (issue 25), so the back-off is short here.
            var client = emu.Client(o => { o.MaximumRetryCount = 1; o.RetryBaseDelay = TimeSpan.FromMilliseconds(10); });
            var ids = new List<string>();
            for (int i = 0; i < 5; i++) ids.Add((await client.StartRunAsync(Requests.Echo())).MessageId);
            // A burst of refusals the budget allows (a storm beyond it stops the wait, as it stops a batch: issue 25).
            await emu.ScriptAsync(new ScriptedFault { Kind = "429", Route = "GET /runs", Count = 8, RetryAfterSeconds = 0 });
            await emu.ScriptAsync(new ScriptedFault { Kind = "reset", Route = "GET /runs", Count = 5 });
            await emu.ScriptAsync(new ScriptedFault { Kind = "500", Route = "GET /runs", Count = 5 });
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(30) });
            var outcomes = await WaitAll(waiter, ids);
            Assert.Equal(5, outcomes.Count);
            Assert.All(outcomes, o => Assert.Equal(RunState.Succeeded, o.Status!.State));
        }

        [Fact]
        public async Task ARestartedServerDoesNotLoseARun()
        {
            string state = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"nenai-state-{Guid.NewGuid():N}.jsonl");
            try
            {
                var config = TestEmulator.DefaultConfig();
                config.StateFile = state;
                config.Workflows.Find(w => w.Id == TestEmulator.EchoWorkflow)!.DurationMs = 1500;
                var first = await EmulatorServer.StartAsync(config);
                Uri address = first.BaseUri;
                var options = NenAi.Core.Configuration.NenClientOptions.Resolve(address.ToString(), TestEmulator.Secret(TestEmulator.ApiKey), TestEmulator.Secret(TestEmulator.SigningKey), environment: _ => null);
                // With the default retry budget the polls pause while the server is away (a few seconds), then go on.
                var client = new NenAi.Core.Http.NenApiClient(options);
                string id = (await client.StartRunAsync(Requests.Echo())).MessageId;

                var log = new CapturingLog();
                using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(100), Timeout = TimeSpan.FromSeconds(30) }, log);
                waiter.Add(id);
                waiter.CompleteAdding();
                waiter.Start(default);
                await first.DisposeAsync(); // the server goes away while the run is processing
                await Task.Delay(300);      // a few polls meet a refused connection (this is the outage, not synchronisation)
                await using var second = await EmulatorServer.StartAsync(config, address.ToString().TrimEnd('/'));
                var outcome = await waiter.TakeAsync();
                Assert.Equal(WaitOutcomeKind.Completed, outcome!.Kind);
                Assert.Equal(RunState.Succeeded, outcome.Status!.State);
                Assert.True(waiter.Circuit.Pauses > 0, "the outage was really met: the polls paused while the server was away");
            }
            finally
            {
                System.IO.File.Delete(state);
            }
        }

        [Fact]
        public async Task TimeoutReportsEveryUnfinishedRunWithItsLastStatus()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            string slow = (await client.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId;
            string fast = (await client.StartRunAsync(Requests.Echo())).MessageId;
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50), Timeout = TimeSpan.FromMilliseconds(700) });
            var outcomes = await WaitAll(waiter, new[] { slow, fast });
            var timedOut = Assert.Single(outcomes, o => o.Kind == WaitOutcomeKind.TimedOut);
            Assert.Equal(slow, timedOut.MessageId);
            Assert.Equal("processing", timedOut.Status!.Status);
            Assert.Equal(NenErrorIds.WaitTimeout, timedOut.Error!.ErrorId);
            Assert.Equal(RunState.Succeeded, outcomes.Single(o => o.MessageId == fast).Status!.State);
        }

        [Fact]
        public async Task RunsAddedWhileWaitingAreFollowedAndDuplicatesIgnored()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(40) });
            waiter.Start(default);
            string a = (await client.StartRunAsync(Requests.Echo())).MessageId;
            Assert.True(waiter.Add(a));
            var first = await waiter.TakeAsync();
            Assert.Equal(a, first!.MessageId);
            string b = (await client.StartRunAsync(Requests.Echo())).MessageId;
            Assert.True(waiter.Add(b));
            Assert.False(waiter.Add(b));
            waiter.CompleteAdding();
            Assert.Equal(b, (await waiter.TakeAsync())!.MessageId);
            Assert.Null(await waiter.TakeAsync());
        }

        [Fact]
        public async Task ServerRetryAfterOnStatusStretchesThePollInterval()
        {
            await using var emu = await TestEmulator.StartAsync(c =>
            {
                c.StatusRetryAfterSeconds = 1;
                c.Workflows.Find(w => w.Id == TestEmulator.EchoWorkflow)!.DurationMs = 1500;
            });
            var client = emu.Client();
            string id = (await client.StartRunAsync(Requests.Echo())).MessageId;
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(20) });
            await WaitAll(waiter, new[] { id });
            // With a 20 ms interval it would poll ~75 times; Retry-After: 1 keeps it to a handful.
            Assert.InRange(emu.State.GetsFor(id), 2, 4);
        }

        [Fact]
        public async Task AReportedFinalStatusEndsTheRunAtOnceAndAPollInFlightIsIgnored()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Workflows.Find(w => w.Id == TestEmulator.SlowWorkflow)!.DurationMs = 600_000);
            var client = emu.Client();
            string id = (await client.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId;
            await emu.ScriptAsync(new ScriptedFault { Kind = "latency", Route = "GET /runs", LatencyMs = 1500 });
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50) });
            waiter.Start(default);
            waiter.Add(id, "row");
            waiter.CompleteAdding();
            Assert.True(await Eventually.TrueAsync(() => emu.State.GetsFor(id) == 1));
            var sw = System.Diagnostics.Stopwatch.StartNew();

            waiter.Report(id, new RunSnapshot { MessageId = id, Status = "success", State = RunState.Succeeded });
            var outcome = await waiter.TakeAsync();

            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"the report took {sw.Elapsed}: it waited for the poll");
            Assert.Equal(WaitOutcomeKind.Completed, outcome!.Kind);
            Assert.Equal("success", outcome.Status!.Status);
            Assert.Equal("row", outcome.Tag);
            Assert.Null(await waiter.TakeAsync().WaitAsync(TimeSpan.FromSeconds(10))); // the poll's answer (processing) comes later and changes nothing
            Assert.Equal(1, waiter.Completed);
        }

        [Theory]
        [InlineData(200, "<html>login</html>")]
        [InlineData(418, "I'm a teapot")]
        [InlineData(400, "{\"error\":\"bad_request\",\"message\":\"no\"}")]
        public async Task KeepingWaitingWhenPollsFailAnyFailingPollLeavesTheRunToItsReportOrItsDeadline(int status, string body)
        {
            // One run's polls answered with what is not the API's (or an error the service gives it every time), while the
            // other run's are answered: a safety net asks it again at the interval until its deadline; before, its first such
            // answer ended it with an error of its own.
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            string failing = (await client.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId;
            string fine = (await client.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId;
            await emu.ScriptAsync(new ScriptedFault { Kind = "raw", Route = "GET /runs", MessageId = failing, Count = 1_000_000, StatusCode = status, Body = body });
            using var waiter = new RunWaiter(client, new RunWaiterOptions
            {
                PollInterval = TimeSpan.FromMilliseconds(50), KeepWaitingWhenPollsFail = true, StopAtOutage = false, Timeout = TimeSpan.FromSeconds(4),
            });
            waiter.Start(default);
            waiter.Add(failing, "row 1");
            waiter.Add(fine, "row 2");
            waiter.CompleteAdding();
            Assert.True(await Eventually.TrueAsync(() => emu.State.GetsFor(failing) >= 4), "the run was not polled again");
            Assert.Equal((2, 0), (waiter.Pending, waiter.StatusUnknown));

            waiter.Report(fine, new RunSnapshot { MessageId = fine, Status = "success", State = RunState.Succeeded });
            var reported = await waiter.TakeAsync();
            var lapsed = await waiter.TakeAsync();

            Assert.Equal((fine, WaitOutcomeKind.Completed), (reported!.MessageId, reported.Kind));
            Assert.Equal((failing, WaitOutcomeKind.TimedOut), (lapsed!.MessageId, lapsed.Kind));
            Assert.Equal(status == 200 ? NenErrorIds.UnexpectedResponse : status == 418 ? NenErrorIds.HttpError : NenErrorIds.InvalidRequest,
                Assert.IsType<NenException>(lapsed.Error!.InnerException).ErrorId); // why its status was not read
            Assert.Equal((1, 0, 1), (waiter.Succeeded, waiter.StatusUnknown, waiter.TimedOut));
            Assert.Null(waiter.Circuit.ClosedBecause); // one run's trouble: polling goes on for the others
        }

        [Fact]
        public async Task WithAFirstPollDelayARunIsNotAskedAboutBeforeItUnlessReported()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            string reported = (await client.StartRunAsync(Requests.Echo())).MessageId;
            string polled = (await client.StartRunAsync(Requests.Echo())).MessageId;
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50), FirstPollDelay = TimeSpan.FromMilliseconds(400) });
            var sw = System.Diagnostics.Stopwatch.StartNew();
            waiter.Start(default);
            waiter.Add(reported);
            waiter.Add(polled);
            waiter.CompleteAdding();
            waiter.Report(reported, new RunSnapshot { MessageId = reported, Status = "processing", State = RunState.Processing });
            waiter.Report(reported, new RunSnapshot { MessageId = reported, Status = "failed", State = RunState.Failed });

            var first = await waiter.TakeAsync();
            var second = await waiter.TakeAsync();

            Assert.Equal((reported, "failed"), (first!.MessageId, first.Status!.Status));
            Assert.Equal((polled, "success"), (second!.MessageId, second.Status!.Status));
            Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(400), $"the first poll came after {sw.Elapsed}");
            Assert.Equal(0, emu.State.GetsFor(reported));
            Assert.Equal(1, emu.State.GetsFor(polled));
        }

        [Fact]
        public async Task ATakerWaitingBeforeAddingIsCompleteGetsNullOnceEveryRunIsReported()
        {
            await using var emu = await TestEmulator.StartAsync();
            using var waiter = new RunWaiter(emu.Client(), new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50) });
            waiter.Start(default);
            var first = waiter.TakeAsync(); // waits while runs may still be added (a webhook receiver's pump does)
            waiter.Add("known-run", null, new RunSnapshot { MessageId = "known-run", Status = "success", State = RunState.Succeeded });
            Assert.Equal("known-run", (await first.WaitAsync(TimeSpan.FromSeconds(10)))!.MessageId);
            var next = waiter.TakeAsync();

            waiter.CompleteAdding();

            Assert.Null(await next.WaitAsync(TimeSpan.FromSeconds(10)));
        }

        [Fact]
        public async Task ATakerWaitingWhenNoRunIsEverAddedGetsNull()
        {
            await using var emu = await TestEmulator.StartAsync();
            using var waiter = new RunWaiter(emu.Client());
            waiter.Start(default);
            var taken = waiter.TakeAsync();

            waiter.CompleteAdding();

            Assert.Null(await taken.WaitAsync(TimeSpan.FromSeconds(10)));
        }

        [Fact]
        public async Task WithStopAtFirstErrorRunsWhosePollsAreCutOffAtTheirDeadlineAreTimedOutNotUnfollowed()
        {
            // -ErrorAction Stop: three runs join together and their first polls are still on the wire at the shared deadline.
            // The first cut-off poll stopped the wait, and the other two (timed out too) were reported not followed, so their
            // warnings were lost (CI: RowNamingTests, 0 warnings of 2).
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            var ids = new List<string>();
            for (int i = 0; i < 3; i++) ids.Add((await client.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId);
            await emu.ScriptAsync(new ScriptedFault { Kind = "latency", Route = "GET /runs", LatencyMs = 5000, Count = 3 });

            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromSeconds(30), Timeout = TimeSpan.FromSeconds(1), StopAtFirstError = true });
            var outcomes = new List<WaitOutcome>();
            await foreach (var o in waiter.WaitAllAsync(ids)) outcomes.Add(o);

            Assert.Equal(3, outcomes.Count);
            Assert.All(outcomes, o => Assert.Equal(WaitOutcomeKind.TimedOut, o.Kind));
        }
    }
}
