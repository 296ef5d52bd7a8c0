using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading.Tasks;
using NenAi.Core.Configuration;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Lookup;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Core.Waiting;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Issue 17 beyond POST /runs: a refused key stops a wait, a lookup and a download with the circuit; a wait or a
    /// download that stops at its first error starts nothing new; a failed run's files; a proxy URL's password.
    /// </summary>
    public sealed class StopTheWorkTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-stop-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private static async Task<List<string>> Started(NenApiClient client, string workflowId, int count, string name = "x")
        {
            var ids = new List<string>();
            for (int i = 0; i < count; i++)
            {
                var request = new RunRequest(workflowId);
                request.Parameters.Add(new("NAME", name));
                ids.Add((await client.StartRunAsync(request)).MessageId);
            }
            return ids;
        }

        [Fact]
        public async Task ARefusedKeyStopsAWaitForEveryRunWithOneReasonAndNoNewQuery()
        {
            await using var emu = await TestEmulator.StartAsync();
            List<string> ids = await Started(emu.Client(), TestEmulator.SlowWorkflow, 20);
            using var waiter = new RunWaiter(emu.Client(apiKey: "revoked-key"), new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(20), MaxConcurrency = 4 });
            var outcomes = new List<WaitOutcome>();
            await foreach (var o in waiter.WaitAllAsync(ids)) outcomes.Add(o);

            Assert.Equal(20, outcomes.Count);
            Assert.All(outcomes, o => Assert.Equal(WaitOutcomeKind.Stopped, o.Kind));
            Assert.Equal(CircuitTrip.Credentials, waiter.Circuit.Trip);
            Assert.InRange(emu.State.GetRuns, 1, 4); // the queries on the wire, no more
            Assert.Contains("API key", waiter.Circuit.ClosedBecause!.Message);
        }

        [Fact]
        public async Task AWaitThatStopsAtItsFirstErrorStartsNoNewQuery()
        {
            await using var emu = await TestEmulator.StartAsync();
            List<string> slow = await Started(emu.Client(), TestEmulator.SlowWorkflow, 3);
            using var waiter = new RunWaiter(emu.Client(), new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(100), StopAtFirstError = true });
            var outcomes = new List<WaitOutcome>();
            await foreach (var o in waiter.WaitAllAsync(slow.Append(Guid.NewGuid().ToString()))) outcomes.Add(o);
            int polls = emu.State.GetRuns;
            await Task.Delay(300); // three poll intervals: a wait still going would ask again

            Assert.Equal(4, outcomes.Count);
            Assert.Equal(NenErrorIds.RunNotFound, Assert.Single(outcomes, o => o.Kind == WaitOutcomeKind.Error).Error!.ErrorId);
            Assert.Equal(3, outcomes.Count(o => o.Kind == WaitOutcomeKind.Stopped));
            Assert.Equal(polls, emu.State.GetRuns);
            Assert.Equal(3, waiter.NotFollowed);
        }

        [Fact]
        public void ATimeoutBeyondWhatTheTimersHoldIsRefused()
        {
            var options = NenClientOptions.Resolve("http://127.0.0.1:9/", TestEmulator.Secret("k"), environment: _ => null);
            var client = new NenApiClient(options);
            using (new RunWaiter(client, new RunWaiterOptions { Timeout = TimeSpan.FromSeconds(RunWaiterOptions.MaxTimeoutSeconds) })) { }
            Assert.Throws<ArgumentOutOfRangeException>(() => new RunWaiter(client, new RunWaiterOptions { Timeout = TimeSpan.FromDays(60) }));
            // The limit is what both builds' timers take: Int32.MaxValue milliseconds.
            using var cts = new System.Threading.CancellationTokenSource();
            cts.CancelAfter(TimeSpan.FromSeconds(RunWaiterOptions.MaxTimeoutSeconds));
            Assert.True(TimeSpan.FromSeconds(RunWaiterOptions.MaxTimeoutSeconds + 1).TotalMilliseconds > int.MaxValue);
        }

        [Fact]
        public async Task ARefusedKeyStopsEveryLookupAfterTheFirstAnswer()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Faults = new FaultSettings { LatencyMs = 20 });
            List<string> ids = await Started(emu.Client(), TestEmulator.SlowWorkflow, 30);
            using var lookup = new StatusLookup(emu.Client(apiKey: "revoked-key"), 4);
            var outcomes = new List<LookupOutcome>();
            foreach (string id in ids)
            {
                while (!lookup.HasFreeSlot) outcomes.Add((await lookup.TakeAsync())!);
                await lookup.AddAsync(id);
            }
            LookupOutcome? rest;
            while ((rest = await lookup.TakeAsync()) != null) outcomes.Add(rest);

            Assert.Equal(30, outcomes.Count);
            Assert.Equal(CircuitTrip.Credentials, lookup.Circuit.Trip);
            Assert.InRange(emu.State.GetRuns, 1, 4);
            Assert.All(outcomes, o => Assert.True(o.Error is NenNotSentException || o.Error!.ErrorId == NenErrorIds.Unauthorized, o.ToString()));
        }

        [Fact]
        public async Task AFailedRunsFilesAreSavedAndItsFailureComesAfterThem()
        {
            await using var emu = await TestEmulator.StartAsync();
            NenApiClient client = emu.Client();
            string id = (await Started(client, TestEmulator.FilesWorkflow, 1, "FAIL"))[0];
            RunSnapshot failed = await FinishedAsync(client, id);
            Assert.Equal(RunState.Failed, failed.State);
            Assert.Equal("error.log", Assert.Single(failed.Results).Name); // the emulator offers a failed run's log (spec §11 Q3)

            RunDownloadResult result = await new ResultDownloader(client, new ResultDownloadOptions(_dir)).DownloadAsync(failed);

            Assert.False(result.RunSucceeded);
            DownloadedFile log = Assert.Single(result.Files);
            Assert.Equal($"run {id} failed: The files workflow was asked to fail.", File.ReadAllText(log.Path));
            NenException error = Assert.Single(result.Errors);
            Assert.Equal(NenErrorIds.RunFailed, error.ErrorId);
            Assert.Contains("were saved", error.Message);
        }

        [Fact]
        public async Task AFailedRunWithoutFilesIsItsFailureAlone()
        {
            await using var emu = await TestEmulator.StartAsync();
            NenApiClient client = emu.Client();
            string id = (await Started(client, TestEmulator.EchoWorkflow, 1, "FAIL"))[0];
            RunSnapshot failed = await FinishedAsync(client, id);

            var ex = await Assert.ThrowsAsync<NenException>(() => new ResultDownloader(client, new ResultDownloadOptions(_dir)).DownloadAsync(failed));
            Assert.Equal(NenErrorIds.RunFailed, ex.ErrorId);
            Assert.False(Directory.Exists(Path.Combine(_dir, id)));
        }

        [Fact]
        public async Task ADownloadThatStopsAtItsFirstErrorStartsNoOtherFile()
        {
            await using var emu = await TestEmulator.StartAsync();
            NenApiClient client = emu.Client(o => o.MaximumRetryCount = 0);
            string id = (await Started(client, TestEmulator.FilesWorkflow, 1))[0];
            RunSnapshot run = await FinishedAsync(client, id);
            await emu.ScriptAsync(new ScriptedFault { Kind = "raw", Route = "GET /files", Count = 1, StatusCode = 404 });

            RunDownloadResult result = await new ResultDownloader(client, new ResultDownloadOptions(_dir) { StopAtFirstError = true }).DownloadAsync(run);

            Assert.Single(result.Errors);
            Assert.Empty(result.Files);
            Assert.Equal(1, emu.State.Downloads); // the first file only: the other two never started
        }

        [Fact]
        public async Task AProxyUrlWithAPasswordIsRefusedBeforeAnyRequestAndNeverShown()
        {
            await using var emu = await TestEmulator.StartAsync();
            var ex = Assert.Throws<NenException>(() => emu.Client(o => { o.ProxyMode = ProxyMode.Explicit; o.ProxyUri = new Uri("http://svc:S3cret-canary@127.0.0.1:3128/"); }));
            Assert.Equal(NenErrorIds.InvalidProxySettings, ex.ErrorId);
            Assert.Contains("-ProxyCredential", ex.Message);
            Assert.DoesNotContain("S3cret-canary", ex.ToString());
            Assert.Equal(0, emu.State.PostRuns + emu.State.GetRuns);
        }

        [Fact]
        public void ATransportFailureNamingAProxyUrlNeverShowsItsPassword()
        {
            var failure = new HttpRequestException(HttpRequestError.ProxyTunnelError, "The proxy tunnel request to proxy 'http://svc:S3cret-canary@proxy.example:3128/' failed with status code '407'.");
            string described = TransportFailure.Describe(failure);
            Assert.DoesNotContain("S3cret-canary", described);
            Assert.Contains("proxy.example", described);
        }

        private static async Task<RunSnapshot> FinishedAsync(NenApiClient client, string id)
        {
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(20) });
            await foreach (var o in waiter.WaitAllAsync(new[] { id })) return o.Status ?? throw o.Error!;
            throw new InvalidOperationException();
        }
    }
}
