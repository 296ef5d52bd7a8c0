using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Files;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Issue 25, item 5: a run's files, and several runs, download at once within one request limit, come out in the
    /// run's order, and storage that fails, stalls or cannot be reached for every file stops them all with one reason
    /// after a bounded number of requests, while one file that fails alone is its own error.
    /// </summary>
    public sealed class ParallelDownloadTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-parallel-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private static (string, byte[])[] Files(int count, int bytes = 1024) =>
            Enumerable.Range(0, count).Select(i => ($"file{i:00}.bin", Enumerable.Repeat((byte)i, bytes).ToArray())).ToArray();

        private ResultDownloader Downloader(NenApiClient client, int concurrency, bool stopAtFirstError = false) =>
            new ResultDownloader(client, new ResultDownloadOptions(_dir) { MaxConcurrency = concurrency, StopAtFirstError = stopAtFirstError, PathLimit = PathLimit.None });

        [Fact]
        public async Task ARunsFilesDownloadAtOnceWithinTheLimitAndComeOutInTheRunsOrder()
        {
            await using var server = await ResultServer.StartAsync(Files(12));
            server.Latency = TimeSpan.FromMilliseconds(300);

            RunDownloadResult result = await Downloader(ResultServer.Client(), concurrency: 4).DownloadAsync(server.Run());

            Assert.Empty(result.Errors);
            Assert.Equal(Enumerable.Range(0, 12).Select(i => $"file{i:00}.bin"), result.Files.Select(f => f.Name));
            Assert.Equal(4, server.MaxInFlight); // at once, and never more than the limit
            Assert.Equal(12, server.Requests);
            Assert.All(result.Files, f => Assert.Equal(1024, new FileInfo(f.Path).Length));
        }

        [Fact]
        public async Task ManyRunsShareOneRequestLimitAndEachComesOutWhole()
        {
            await using var server = await ResultServer.StartAsync(Files(2));
            server.Latency = TimeSpan.FromMilliseconds(200);
            using var queue = new ResultDownloadQueue(Downloader(ResultServer.Client(), concurrency: 3));

            var outcomes = new List<RunDownloadOutcome>();
            for (int i = 0; i < 8; i++)
            {
                while (!queue.HasFreeSlot) outcomes.Add((await queue.TakeAsync())!);
                await queue.AddAsync(server.Run("run-" + i), tag: i);
            }
            RunDownloadOutcome? next;
            while ((next = await queue.TakeAsync()) != null) outcomes.Add(next);

            Assert.Equal(8, outcomes.Count);
            Assert.Equal(Enumerable.Range(0, 8), outcomes.Select(o => (int)o.Tag!).OrderBy(t => t));
            Assert.All(outcomes, o => Assert.Equal(new[] { "file00.bin", "file01.bin" }, o.Result!.Files.Select(f => f.Name)));
            Assert.Equal(3, server.MaxInFlight); // the limit is the command's, not each run's
            Assert.Equal(16, server.Requests);
        }

        [Fact]
        public async Task WithOneRequestAtATimeRunsComeOutInTheOrderTheyCame()
        {
            await using var server = await ResultServer.StartAsync(Files(3));
            server.Latency = TimeSpan.FromMilliseconds(20);
            using var queue = new ResultDownloadQueue(Downloader(ResultServer.Client(), concurrency: 1));

            var order = new List<int>();
            for (int i = 0; i < 6; i++)
            {
                while (!queue.HasFreeSlot) order.Add((int)(await queue.TakeAsync())!.Tag!);
                await queue.AddAsync(server.Run("run-" + i), tag: i);
            }
            RunDownloadOutcome? next;
            while ((next = await queue.TakeAsync()) != null) order.Add((int)next.Tag!);

            Assert.Equal(Enumerable.Range(0, 6), order);
            Assert.Equal(1, server.MaxInFlight);
        }

        [Fact]
        public async Task WithOneRequestAtATimeARunStillUnpackingItsArchiveComesOutBeforeTheNextRun()
        {
            // Run 0's one result is an archive of many entries, unpacked after its download has given up its place on the
            // wire; run 1's one small file downloads meanwhile and is done long before. -ThrottleLimit 1 promises the order
            // the runs came in, so run 1 waits for run 0 to come out (it came out first before, and on a loaded machine
            // even without an archive: WithOneRequestAtATimeRunsComeOutInTheOrderTheyCame saw 0 1 2 3 5 4 in a loaded run).
            var entries = Enumerable.Range(0, 300).Select(i => ($"entry{i:000}.txt", "x")).ToArray();
            await using var server = await ResultServer.StartAsync(("archive.zip", ResultServer.Zip(entries)), ("small.txt", ResultServer.Text("small")));
            RunSnapshot Only(int index, string messageId)
            {
                RunSnapshot run = server.Run(messageId);
                run.Results = new[] { run.Results[index] };
                return run;
            }
            var downloader = new ResultDownloader(ResultServer.Client(), new ResultDownloadOptions(_dir) { MaxConcurrency = 1, Expand = true, PathLimit = PathLimit.None });
            using var queue = new ResultDownloadQueue(downloader);

            await queue.AddAsync(Only(0, "run-0"), tag: 0);
            await queue.AddAsync(Only(1, "run-1"), tag: 1);
            var order = new List<int>();
            RunDownloadOutcome? next;
            while ((next = await queue.TakeAsync()) != null)
            {
                Assert.Empty(next.Result!.Errors);
                order.Add((int)next.Tag!);
            }

            Assert.Equal(new[] { 0, 1 }, order);
            Assert.Equal(300, Directory.GetFiles(Path.Combine(_dir, "run-0"), "entry*.txt", SearchOption.AllDirectories).Length); // unpacked whole
        }

        [Fact]
        public async Task StorageThatStallsEveryFileStopsTheDownloadsAfterTwoRequestTimeoutsWithOneReason()
        {
            await using var server = await ResultServer.StartAsync(Files(10));
            server.Stall = "body";
            NenApiClient client = ResultServer.Client(configure: o => o.Timeout = TimeSpan.FromSeconds(1));
            ResultDownloader downloader = Downloader(client, concurrency: 4);
            var clock = Stopwatch.StartNew();

            RunDownloadResult result = await downloader.DownloadAsync(server.Run());

            // The four on the wire stall for one timeout, a probe sent after them for another: then the circuit trips.
            Assert.InRange(clock.Elapsed.TotalSeconds, 1.9, 6);
            Assert.Equal(CircuitTrip.Failures, downloader.Circuit.Trip);
            Assert.Equal(NenErrorIds.Timeout, downloader.Circuit.ClosedBecause!.ErrorId);
            Assert.Contains("timed out", downloader.Circuit.ClosedBecause.Message);
            Assert.Empty(result.Errors); // no error per file: each is not downloaded, counted in the circuit's reason
            Assert.Equal(10, result.NotDownloaded.Count);
            Assert.InRange(server.Requests, 5, 6);
            Assert.Empty(result.Files);
        }

        [Fact]
        public async Task StorageFailingEveryFileStopsOnceTheStreakOutlastsTheWindowAfterAFewRequests()
        {
            await using var server = await ResultServer.StartAsync(Files(20));
            server.Failing = _ => true;
            // The read outage window is at most the retry duration: 2 s here, so the test is short.
            NenApiClient client = ResultServer.Client(configure: o => { o.RetryBaseDelay = TimeSpan.FromMilliseconds(100); o.MaximumRetryDuration = TimeSpan.FromSeconds(2); });
            ResultDownloader downloader = Downloader(client, concurrency: 8);

            RunDownloadResult result = await downloader.DownloadAsync(server.Run());

            Assert.Equal(CircuitTrip.Failures, downloader.Circuit.Trip);
            Assert.Equal(NenErrorIds.DownloadFailed, downloader.Circuit.ClosedBecause!.ErrorId);
            Assert.Empty(result.Errors);
            Assert.Equal(20, result.NotDownloaded.Count);
            // The eight on the wire, then one probe at a time with a growing back-off: not 20 files × 6 attempts.
            Assert.InRange(server.Requests, 2, 8 + 8);
        }

        [Fact]
        public async Task ABurstOf429FromTheStorageIsRiddenOutWhateverTheRetryCountAsTheApisIs()
        {
            // -MaximumRetryCount bounds the failures that may pass; 429/503 are waited out for the retry budget's time (its
            // help says so, and the API's requests do). Each download counted them as retries: with -MaximumRetryCount 1,
            // 2 s of 429 (Retry-After 1) gave every file its own "Gave up after 2 attempt(s)".
            await using var server = await ResultServer.StartAsync(Files(4));
            var burst = Stopwatch.StartNew();
            server.Failing = _ => burst.Elapsed < TimeSpan.FromSeconds(2);
            server.FailingStatus = 429;
            server.FailingRetryAfterSeconds = 1;
            ResultDownloader downloader = Downloader(ResultServer.Client(maximumRetryCount: 1), concurrency: 4);

            RunDownloadResult result = await downloader.DownloadAsync(server.Run());

            Assert.Empty(result.Errors);
            Assert.Equal(4, result.Files.Count);
            Assert.Equal(CircuitTrip.None, downloader.Circuit.Trip);
            Assert.True(downloader.Circuit.Pauses > 0, "the burst was really met");
        }

        [Fact]
        public async Task OneFileThatFailsAloneIsItsOwnErrorAndTheOthersAreSaved()
        {
            await using var server = await ResultServer.StartAsync(Files(6));
            server.Failing = index => index == 2;
            // Its retries spent, it waits for the others' verdict until the read outage window is over (2 s here): alone, it gives up.
            ResultDownloader downloader = Downloader(ResultServer.Client(maximumRetryCount: 3, configure: o => o.MaximumRetryDuration = TimeSpan.FromSeconds(2)), concurrency: 4);

            RunDownloadResult result = await downloader.DownloadAsync(server.Run());

            Assert.Equal(CircuitTrip.None, downloader.Circuit.Trip);
            NenException error = Assert.Single(result.Errors);
            Assert.Equal(NenErrorIds.DownloadFailed, error.ErrorId);
            Assert.Contains("file02.bin", error.Message);
            Assert.Contains("Gave up after 4 attempt(s)", error.Message);
            Assert.Equal(new[] { "file00.bin", "file01.bin", "file03.bin", "file04.bin", "file05.bin" }, result.Files.Select(f => f.Name));
            Assert.Equal(4, server.RequestsFor(2));
        }

        [Fact]
        public async Task AfterTheFirstErrorWithStopAtFirstErrorNoOtherFileStartsAndTheOnesOnTheWireFinish()
        {
            await using var server = await ResultServer.StartAsync(Files(10));
            server.Latency = TimeSpan.FromMilliseconds(200);
            server.Failing = index => index == 0;
            server.FailingStatus = 404;
            ResultDownloader downloader = Downloader(ResultServer.Client(), concurrency: 3, stopAtFirstError: true);

            RunDownloadResult result = await downloader.DownloadAsync(server.Run());

            Assert.Equal(NenErrorIds.DownloadFailed, Assert.Single(result.Errors).ErrorId);
            Assert.Equal(new[] { "file01.bin", "file02.bin" }, result.Files.Select(f => f.Name)); // on the wire with it
            Assert.Equal(3, server.Requests);
            Assert.Equal(7, result.NotDownloaded.Count);
        }
    }
}
