using System.Collections.Generic;
using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Threading.Tasks;
using NenAi.TestSupport;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Core.Waiting;
using NenAi.Emulator;
using Xunit;

namespace NenAi.Core.Tests
{
    public sealed class ResultDownloaderTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-results-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private static async Task<RunSnapshot> FinishedRun(NenApiClient client, string workflowId, string name = "x")
        {
            var request = new RunRequest(workflowId);
            request.Parameters.Add(new("NAME", name));
            string id = (await client.StartRunAsync(request)).MessageId;
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(20) });
            await foreach (var o in waiter.WaitAllAsync(new[] { id })) return o.Kind == WaitOutcomeKind.Completed ? o.Status! : throw o.Error!;
            throw new InvalidOperationException();
        }

        [Fact]
        public async Task DownloadsEveryResultIntoTheRunFolderAndSkipsCompleteOnes()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            RunSnapshot run = await FinishedRun(client, TestEmulator.FilesWorkflow);
            var downloader = new ResultDownloader(client, new ResultDownloadOptions(_dir));
            var result = await downloader.DownloadAsync(run);
            Assert.Empty(result.Errors);
            Assert.Equal(new[] { "assets.zip", "report.txt", "data.bin" }, result.Files.Select(f => f.Name));
            Assert.All(result.Files, f => Assert.StartsWith(Path.Combine(_dir, run.MessageId), f.Path));
            Assert.Equal($"report for {run.MessageId}", File.ReadAllText(Path.Combine(_dir, run.MessageId, "report.txt")));
            Assert.Equal(300_000, new FileInfo(Path.Combine(_dir, run.MessageId, "data.bin")).Length);
            Assert.Equal(new[] { "assets.zip", "data.bin", "report.txt" }, Directory.GetFileSystemEntries(Path.Combine(_dir, run.MessageId)).Select(Path.GetFileName).OrderBy(n => n));

            int downloads = emu.State.Downloads;
            var again = await downloader.DownloadAsync(run);
            Assert.All(again.Files, f => Assert.True(f.Skipped));
            Assert.Equal(downloads, emu.State.Downloads);

            var forced = await new ResultDownloader(client, new ResultDownloadOptions(_dir) { Force = true }).DownloadAsync(run);
            Assert.All(forced.Files, f => Assert.False(f.Skipped));
        }

        [Fact]
        public async Task StorageThatNoConnectionReachesStopsTheDownloadsWithOneReasonAndNoErrorPerFile()
        {
            // Acceptance: with the service gone mid-batch, Get-NenRunResult wrote one NenDownloadFailed per file, each
            // after its own retries (68 errors in 13.5 min). Then (issue 17) two files' errors and the circuit's reason.
            // Now (issue 25) the files' failures are the circuit's evidence: it trips once they have failed in a row for
            // longer than one file's retries would take, and every file is "not downloaded", with no error of its own.
            var emu = await TestEmulator.StartAsync();
            var client = emu.Client(o => o.MaximumRetryCount = 2);
            var runs = new List<RunSnapshot>();
            for (int i = 0; i < 4; i++) runs.Add(await FinishedRun(client, TestEmulator.FilesWorkflow, "n" + i));
            await emu.DisposeAsync();   // the service (and its storage) is gone; the runs carry their links
            // Its port held, bound and never listening (a connection to it is refused): once a listener another test
            // opened took the freed port and stalled every download (NenTimeout after 40 s, not the refusal this is about).
            // SO_REUSEADDR: the emulator's closed connections may linger in TIME_WAIT on it; a listener still makes Bind fail.
            using var held = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            held.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, System.Net.Sockets.SocketOptionName.ReuseAddress, true);
            held.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, emu.BaseUri.Port));
            var downloader = new ResultDownloader(client, new ResultDownloadOptions(_dir));

            var errors = new List<NenException>();
            var notDownloaded = new List<string>();
            foreach (RunSnapshot run in runs)
            {
                var result = await downloader.DownloadAsync(run);
                errors.AddRange(result.Errors);
                notDownloaded.AddRange(result.NotDownloaded);
                if (downloader.Circuit.TrippedByService) break;
            }

            Assert.True(downloader.Circuit.TrippedByService, string.Join("\n", errors.Select(e => e.ErrorId + ": " + e.Message)));
            Assert.Equal(CircuitTrip.Failures, downloader.Circuit.Trip);
            Assert.Equal(NenErrorIds.NetworkError, downloader.Circuit.ClosedBecause!.ErrorId);
            Assert.Contains("in a row", downloader.Circuit.ClosedBecause!.Message);
            Assert.Empty(errors); // not one error per file: each is counted in the circuit's one reason
            Assert.Equal(new[] { "assets.zip", "report.txt", "data.bin" }, notDownloaded.Take(3));
            Assert.DoesNotContain(Directory.GetFiles(_dir, "*", SearchOption.AllDirectories), f => !f.Contains(".nenai"));
        }

        [Fact]
        public async Task OneLinkWhoseHostIsGoneFailsAloneAndTheOtherFilesAreSaved()
        {
            // One file's host unreachable (a retired bucket) is that file's error, not the end of the command.
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client(o => o.MaximumRetryCount = 1);
            RunSnapshot run = await FinishedRun(client, TestEmulator.FilesWorkflow);
            var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            closed.Start();
            int port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
            closed.Stop();   // nothing listens there now: every connect is refused
            var links = run.Results.ToList();
            links[0] = new ResultLink(links[0].Name, new Uri($"http://127.0.0.1:{port}/files/gone?sig=x"), links[0].ContentType, links[0].Size);
            run.Results = links;
            var downloader = new ResultDownloader(client, new ResultDownloadOptions(_dir));

            var result = await downloader.DownloadAsync(run);

            Assert.False(downloader.Circuit.TrippedByService);
            Assert.Equal(NenErrorIds.NetworkError, Assert.Single(result.Errors).ErrorId);
            Assert.Equal(links.Count - 1, result.Files.Count);
        }

        [Fact]
        public async Task PresignedDownloadsCarryNoNenHeaders()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            RunSnapshot run = await FinishedRun(client, TestEmulator.FilesWorkflow);
            // A presigned URL with the API key stripped still works, and the client's request carries none:
            using var response = await client.OpenDownloadAsync(run.Results[1].Url, 0, null, default);
            Assert.False(response.RequestMessage!.Headers.Contains("x-api-key"));
            Assert.False(response.RequestMessage.Headers.Contains("x-signature"));
            Assert.False(response.RequestMessage.Headers.Contains("x-timestamp"));
            Assert.Equal(200, (int)response.StatusCode);
        }

        [Fact]
        public async Task ExpiredLinksAreRefreshedThroughTheRetrievalEndpoint()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.PresignedUrlLifetimeSeconds = 60);
            var client = emu.Client();
            RunSnapshot run = await FinishedRun(client, TestEmulator.FilesWorkflow);
            await emu.AdvanceClockAsync(3600); // every link in `run` is now expired (403)
            int getsBefore = emu.State.GetsFor(run.MessageId);
            var result = await new ResultDownloader(client, new ResultDownloadOptions(_dir)).DownloadAsync(run);
            Assert.Empty(result.Errors);
            Assert.Equal(3, result.Files.Count);
            Assert.True(emu.State.GetsFor(run.MessageId) > getsBefore);
        }

        [Fact]
        public async Task InterruptedDownloadResumesAndEndsWithTheRightBytes()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            RunSnapshot run = await FinishedRun(client, TestEmulator.FilesWorkflow);
            await emu.ScriptAsync(new ScriptedFault { Kind = "truncate-download", Route = "GET /files", Count = 1 });
            var result = await new ResultDownloader(client, new ResultDownloadOptions(_dir)).DownloadAsync(run);
            Assert.Empty(result.Errors);
            // Compare with a clean second copy.
            string other = Path.Combine(_dir, "clean");
            await new ResultDownloader(client, new ResultDownloadOptions(other)).DownloadAsync(run);
            foreach (string name in new[] { "assets.zip", "report.txt", "data.bin" })
                Assert.Equal(File.ReadAllBytes(Path.Combine(other, run.MessageId, name)), File.ReadAllBytes(Path.Combine(_dir, run.MessageId, name)));
        }

        [Fact]
        public async Task OversizedBodyIsDetectedAndNotSaved()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            RunSnapshot run = await FinishedRun(client, TestEmulator.FilesWorkflow);
            await emu.ScriptAsync(new ScriptedFault { Kind = "oversize-download", Route = "GET /files", Count = 1 });
            var result = await new ResultDownloader(client, new ResultDownloadOptions(_dir)).DownloadAsync(run);
            var error = Assert.Single(result.Errors);
            Assert.Equal(NenErrorIds.DownloadSizeMismatch, error.ErrorId);
            Assert.False(File.Exists(Path.Combine(_dir, run.MessageId, "assets.zip")));
            Assert.Equal(2, result.Files.Count); // the other files still came
        }

        [Fact]
        public async Task FailedRunYieldsTheWorkflowsErrorMessage()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            RunSnapshot run = await FinishedRun(client, TestEmulator.EchoWorkflow, "FAIL");
            var ex = await Assert.ThrowsAsync<NenException>(() => new ResultDownloader(client, new ResultDownloadOptions(_dir)).DownloadAsync(run));
            Assert.Equal(NenErrorIds.RunFailed, ex.ErrorId);
            Assert.Contains("The echo workflow was asked to fail.", ex.Message);
        }

        [Fact]
        public async Task UnfinishedRunIsRefused()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            string id = (await client.StartRunAsync(new RunRequest(TestEmulator.SlowWorkflow))).MessageId;
            var ex = await Assert.ThrowsAsync<NenException>(() => new ResultDownloader(client, new ResultDownloadOptions(_dir)).DownloadAsync(new RunSnapshot { MessageId = id, Status = "queued" }));
            Assert.Equal(NenErrorIds.RunNotComplete, ex.ErrorId);
        }

        [Theory]
        [InlineData("../x")]
        [InlineData("..\\x")]
        [InlineData("/etc/passwd")]
        [InlineData("C:\\Windows\\x")]
        [InlineData("CON")]
        [InlineData("nul.txt")]
        [InlineData("a/b")]
        [InlineData("..")]
        [InlineData("bad\u0001name")]
        [InlineData("trailing.")]
        [InlineData("")]
        public async Task UnsafeResultNamesAreRefusedAndTheRestStillDownloads(string name)
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Workflows.Find(w => w.Id == TestEmulator.FilesWorkflow)!.Files.Add(new FileSpec { Name = name, Content = "evil" }));
            var client = emu.Client();
            RunSnapshot run = await FinishedRun(client, TestEmulator.FilesWorkflow);
            var result = await new ResultDownloader(client, new ResultDownloadOptions(_dir)).DownloadAsync(run);
            var error = Assert.Single(result.Errors);
            Assert.Equal(NenErrorIds.UnsafeFileName, error.ErrorId);
            Assert.Equal(3, result.Files.Count);
            Assert.Equal(new[] { run.MessageId }, Directory.GetDirectories(_dir).Select(Path.GetFileName));
        }

        [Fact]
        public async Task ExpandUnpacksTheArchive()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            RunSnapshot run = await FinishedRun(client, TestEmulator.FilesWorkflow);
            var result = await new ResultDownloader(client, new ResultDownloadOptions(_dir) { Expand = true }).DownloadAsync(run);
            Assert.Empty(result.Errors);
            Assert.Contains(result.Files, f => f.Expanded && f.Name == "result.json");
            Assert.True(File.Exists(Path.Combine(_dir, run.MessageId, "assets", "report.txt")));
        }

        [Theory]
        [InlineData("../../escape.txt")]
        [InlineData("/abs.txt")]
        [InlineData("sub/../../x.txt")]
        [InlineData("sub/CON")]
        public async Task ZipSlipIsRefusedAndNothingIsUnpacked(string entry)
        {
            await using var emu = await TestEmulator.StartAsync(c => c.Workflows.Find(w => w.Id == TestEmulator.FilesWorkflow)!.ZipEntries.Add(new FileSpec { Name = entry, Content = "escaped" }));
            var client = emu.Client();
            RunSnapshot run = await FinishedRun(client, TestEmulator.FilesWorkflow);
            var result = await new ResultDownloader(client, new ResultDownloadOptions(_dir) { Expand = true }).DownloadAsync(run);
            var error = Assert.Single(result.Errors);
            Assert.Equal(NenErrorIds.UnsafeZipEntry, error.ErrorId);
            Assert.False(Directory.Exists(Path.Combine(_dir, run.MessageId, "assets")));
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(_dir)!, "escape*.txt"));
        }
    }
}
