using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Core.Waiting;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// A wait's deadline counts from when each run joins; nothing (a hung request, a long pause, endless errors) can
    /// run past it; and without a deadline, endless errors still end, after a bounded budget, with a clear error.
    /// </summary>
    public class WaitDeadlineTests
    {
        private const int Forever = 100_000;

        private static async Task<string> StartSlowRun(NenApiClient client)
        {
            var request = new NenAi.Core.Models.RunRequest(TestEmulator.SlowWorkflow);
            return (await client.StartRunAsync(request)).MessageId;
        }

        [Fact]
        public async Task ARunThatJoinsLateGetsItsFullTime()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            string early = await StartSlowRun(client), late = await StartSlowRun(client);
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50), Timeout = TimeSpan.FromSeconds(1) });
            var clock = Stopwatch.StartNew();
            waiter.Start(default);
            waiter.Add(early);
            await Task.Delay(800); // the second run streams in later, as rows do from a slow upstream command
            waiter.Add(late);
            waiter.CompleteAdding();

            var first = (await waiter.TakeAsync())!;
            TimeSpan firstAt = clock.Elapsed;
            var second = (await waiter.TakeAsync())!;
            TimeSpan secondAt = clock.Elapsed;

            Assert.Equal((early, WaitOutcomeKind.TimedOut), (first.MessageId, first.Kind));
            Assert.Equal((late, WaitOutcomeKind.TimedOut), (second.MessageId, second.Kind));
            Assert.InRange(firstAt.TotalSeconds, 0.95, 1.6);
            Assert.True(secondAt.TotalSeconds >= 1.75, $"the late run was given up after {secondAt.TotalSeconds:0.00} s, before its second was up");
            Assert.Equal("processing", second.Status?.Status);
        }

        [Theory]
        [InlineData("latency")] // a status request that hangs
        [InlineData("500")]     // endless transient errors
        [InlineData("429")]     // an endless storm of refusals
        public async Task NothingRunsPastTheDeadline(string fault)
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client(o => o.Timeout = TimeSpan.FromSeconds(30));
            string id = await StartSlowRun(client);
            await emu.ScriptAsync(new ScriptedFault { Kind = fault, Route = "GET /runs", Count = Forever, LatencyMs = fault == "latency" ? 20_000 : 0, RetryAfterSeconds = 1 });
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50), Timeout = TimeSpan.FromSeconds(1) });
            var clock = Stopwatch.StartNew();

            WaitOutcome outcome = Assert.Single(await All(waiter, id));

            Assert.Equal(WaitOutcomeKind.TimedOut, outcome.Kind);
            Assert.Equal(NenErrorIds.WaitTimeout, outcome.Error!.ErrorId);
            Assert.InRange(clock.Elapsed.TotalSeconds, 0.95, 2.5);
        }

        [Fact]
        public async Task RunsTheConcurrencyLimitKeptWaitingAreReportedAtTheirDeadlineToo()
        {
            // Six runs, one query at a time, every query refused with Retry-After 3: by the deadline only the first
            // has been asked about. The others were once given one query each after it, one behind the other.
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client(o => o.Timeout = TimeSpan.FromSeconds(30));
            var ids = new List<string>();
            for (int i = 0; i < 6; i++) ids.Add(await StartSlowRun(client));
            await emu.ScriptAsync(new ScriptedFault { Kind = "429", Route = "GET /runs", Count = Forever, RetryAfterSeconds = 3 });
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(50), Timeout = TimeSpan.FromSeconds(1), MaxConcurrency = 1 });
            var clock = Stopwatch.StartNew();

            var outcomes = new List<WaitOutcome>();
            await foreach (var o in waiter.WaitAllAsync(ids)) outcomes.Add(o);

            Assert.InRange(clock.Elapsed.TotalSeconds, 0.95, 2.5);
            Assert.Equal(ids.OrderBy(i => i), outcomes.Select(o => o.MessageId).OrderBy(i => i));
            Assert.All(outcomes, o => Assert.Equal((WaitOutcomeKind.TimedOut, NenErrorIds.WaitTimeout), (o.Kind, o.Error!.ErrorId)));
            Assert.Contains(outcomes, o => o.Error!.Message.Contains("before its status could be read"));
        }

        [Theory]
        [InlineData("500")]
        [InlineData("429")]
        [InlineData("reset")]
        public async Task WithoutADeadlineEndlessErrorsEndAfterABoundedBudgetWithAClearError(string fault)
        {
            await using var emu = await TestEmulator.StartAsync();
            // A 429 is waited out for the retry budget's time, not -MaximumRetryCount (issue 25): a budget of 0.3 s here.
            var client = emu.Client(o => { o.MaximumRetryCount = 1; o.RetryBaseDelay = TimeSpan.FromMilliseconds(10); if (fault == "429") o.MaximumRetryDuration = TimeSpan.FromSeconds(0.3); });
            string id = await StartSlowRun(client);
            await emu.ScriptAsync(new ScriptedFault { Kind = fault, Route = "GET /runs", Count = Forever, RetryAfterSeconds = 0 });
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(20), MaxConsecutiveFailures = 3 });

            WaitOutcome outcome = Assert.Single(await All(waiter, id));

            if (fault == "429")
            {
                // A storm past the retry budget is the whole wait's end (issue 25: one circuit for every stage): the run is
                // not followed to the end, never "failed", and the circuit's one error says why.
                Assert.Equal(WaitOutcomeKind.Stopped, outcome.Kind);
                Assert.Equal(NenErrorIds.RateLimited, outcome.Error!.ErrorId);
                Assert.Contains("-RetryBudgetSec", outcome.Error.Message);
            }
            else
            {
                // One run failing alone is its own error (its own retries end it), not an outage.
                Assert.Equal(WaitOutcomeKind.Error, outcome.Kind);
                Assert.Equal(NenErrorIds.StatusUnavailable, outcome.Error!.ErrorId);
                Assert.Contains("follow it again later", outcome.Error.Message);
            }
            Assert.InRange(emu.State.GetsFor(id), 3, 20); // a bounded number of polls, and then no more
        }

        [Fact]
        public async Task AStatusThatCannotBeReadIsATypedErrorNotAnEndlessPoll()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            string id = await StartSlowRun(client);
            await emu.ScriptAsync(new ScriptedFault { Kind = "raw", Route = "GET /runs", Count = Forever, StatusCode = 200, Body = "[\"not\", \"a\", \"status\"]" });
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(20) });

            WaitOutcome outcome = Assert.Single(await All(waiter, id));

            Assert.Equal(WaitOutcomeKind.Error, outcome.Kind);
            Assert.Equal(NenErrorIds.UnexpectedResponse, outcome.Error!.ErrorId);
            // Asked once more (a page that every request meets is told once, by the circuit), then the run's own error.
            Assert.Equal(2, emu.State.GetsFor(id));
        }

        private static async Task<List<WaitOutcome>> All(RunWaiter waiter, string id)
        {
            var outcomes = new List<WaitOutcome>();
            await foreach (var o in waiter.WaitAllAsync(new[] { id })) outcomes.Add(o);
            return outcomes;
        }
    }
}
