using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Lookup;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>One GET per run, bounded concurrency, no waiting for runs to finish: what Get-NenRun stands on.</summary>
    public class StatusLookupTests
    {
        private static async Task<List<LookupOutcome>> LookUpAll(StatusLookup lookup, IEnumerable<(string Id, object? Tag)> runs)
        {
            var outcomes = new List<LookupOutcome>();
            foreach (var (id, tag) in runs)
            {
                while (!lookup.HasFreeSlot) outcomes.Add((await lookup.TakeAsync())!);
                await lookup.AddAsync(id, tag);
                while (lookup.TryTake(out LookupOutcome? ready)) outcomes.Add(ready!);
            }
            LookupOutcome? rest;
            while ((rest = await lookup.TakeAsync()) != null) outcomes.Add(rest);
            return outcomes;
        }

        [Fact]
        public async Task EachRunGetsOneAnswerWithItsCurrentStatusWithoutWaitingForItToFinish()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            string slow = (await client.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId;
            string unknown = Guid.NewGuid().ToString();
            using var lookup = new StatusLookup(client, 4);

            List<LookupOutcome> outcomes = await LookUpAll(lookup, new[] { (slow, (object?)"slow row"), (unknown, "unknown row") });

            Assert.Equal(2, outcomes.Count);
            LookupOutcome running = outcomes.Single(o => o.MessageId == slow);
            Assert.Equal("processing", running.Status!.Status);
            Assert.False(running.Status.IsTerminal);
            Assert.Equal("slow row", running.Tag);
            LookupOutcome missing = outcomes.Single(o => o.MessageId == unknown);
            Assert.Null(missing.Status);
            Assert.Equal(NenErrorIds.RunNotFound, missing.Error!.ErrorId);
            Assert.Equal("unknown row", missing.Tag);
            Assert.Equal(1, emu.State.GetsFor(slow));
            Assert.Equal(0, lookup.Outstanding);
        }

        [Fact]
        public async Task AtMostMaxConcurrencyRequestsAreInFlight()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            var ids = new List<string>();
            for (int i = 0; i < 12; i++) ids.Add((await client.StartRunAsync(Requests.Echo("row" + i))).MessageId);
            emu.State.Faults.Replace(new FaultSettings { LatencyMs = 150, ApplyTo = "get" });
            using var lookup = new StatusLookup(client, 3);

            List<LookupOutcome> outcomes = await LookUpAll(lookup, ids.Select(id => (id, (object?)null)));

            Assert.Equal(12, outcomes.Count);
            Assert.All(outcomes, o => Assert.Equal("success", o.Status!.Status));
            Assert.Equal(12, emu.State.GetRuns);
            // The POSTs above went one at a time, so the peak is the lookup's.
            Assert.InRange(emu.State.MaxRequestsInFlight, 2, 3);
        }

        [Fact]
        public async Task AStatusOutageStopsTheLookupsWithOneReasonAfterAFewRequests()
        {
            // Issue 25: every lookup used to fail on its own after six attempts (6 GETs and one error per run).
            await using var emu = await TestEmulator.StartAsync();
            var setup = emu.Client();
            var ids = new List<string>();
            for (int i = 0; i < 30; i++) ids.Add((await setup.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId);
            emu.State.Faults.Replace(new FaultSettings { Rate500 = 1, ApplyTo = "get" });
            int before = emu.State.GetRuns;
            // The read outage window is at most the retry duration: 2 s keeps the test short.
            var client = emu.Client(o => { o.RetryBaseDelay = TimeSpan.FromMilliseconds(50); o.MaximumRetryDuration = TimeSpan.FromSeconds(2); });
            using var lookup = new StatusLookup(client, 8);

            List<LookupOutcome> outcomes = await LookUpAll(lookup, ids.Select(id => (id, (object?)null)));

            Assert.Equal(30, outcomes.Count);
            Assert.Equal(Http.CircuitTrip.Failures, lookup.Circuit.Trip);
            Assert.All(outcomes, o => Assert.True(o.Error is NenNotSentException || lookup.Circuit.StoppedBy(o.Error!), o.ToString()));
            // The eight on the wire, then one probe at a time: not 30 runs × 6 attempts.
            Assert.InRange(emu.State.GetRuns - before, 2, 8 + 10); // (runs asked about after the first failure already wait for a probe)
        }
    }
}
