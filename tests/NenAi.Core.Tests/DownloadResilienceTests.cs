using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Core.Waiting;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Downloads never hang and never look complete when they are not: a stalled body times out, a 206 that does not
    /// continue the file is refused, resumes carry If-Range, retries back off and honour Retry-After, redirects are
    /// followed without credentials, and archives are unpacked within limits into folders that are whole or absent.
    /// </summary>
    public sealed class DownloadResilienceTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-dl-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private static async Task<RunSnapshot> Finished(NenApiClient client)
        {
            var request = new RunRequest(TestEmulator.FilesWorkflow);
            string id = (await client.StartRunAsync(request)).MessageId;
            using var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(20) });
            await foreach (var o in waiter.WaitAllAsync(new[] { id })) return o.Status!;
            throw new InvalidOperationException();
        }

        private ResultDownloader Downloader(NenApiClient client, Action<ResultDownloadOptions>? configure = null)
        {
            var options = new ResultDownloadOptions(_dir);
            configure?.Invoke(options);
            return new ResultDownloader(client, options);
        }

        [Fact]
        public async Task AStalledDownloadEndsWithinTheTimeoutAndTheFileDoesNotLookComplete()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client(o => { o.Timeout = TimeSpan.FromSeconds(1); o.MaximumRetryCount = 0; });
            RunSnapshot run = await Finished(client);
            await emu.ScriptAsync(new ScriptedFault { Kind = "stall-download", Route = "GET /files", Count = 1 });
            var clock = Stopwatch.StartNew();

            RunDownloadResult result = await Downloader(client).DownloadAsync(run);

            Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 5);
            NenException error = Assert.Single(result.Errors);
            Assert.Equal(NenErrorIds.Timeout, error.ErrorId);
            Assert.Contains("stalled", error.Message);
            string folder = Path.Combine(_dir, run.MessageId);
            Assert.False(File.Exists(Path.Combine(folder, "assets.zip")));
            // What arrived is kept for a resume, apart from the results' names.
            var layout = new RunFolderLayout(folder, run.MessageId, run.Results.Select(f => (string?)f.Name).ToList(), Core.Files.PathLimit.None);
            Assert.True(File.Exists(layout.PartialOf("assets.zip")));
            Assert.Equal(new[] { "data.bin", "report.txt" }, Directory.GetFiles(folder).Select(Path.GetFileName).OrderBy(n => n));
            Assert.Equal(2, result.Files.Count); // the other files still came
        }

        [Fact]
        public async Task APartialAnswerThatDoesNotContinueTheFileIsRefused()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client(o => o.RetryBaseDelay = TimeSpan.FromMilliseconds(10));
            RunSnapshot run = await Finished(client);
            ResultLink data = run.Results.Single(f => f.Name == "data.bin");
            // Half the file, cut off; then a 206 that starts from 0 although the rest was asked for.
            await emu.ScriptAsync(new ScriptedFault { Kind = "truncate-download", Route = "GET /files", Count = 3 });
            await emu.ScriptAsync(new ScriptedFault { Kind = "bad-content-range", Route = "GET /files", Count = 1 });

            RunDownloadResult result = await Downloader(client).DownloadAsync(run);

            Assert.Empty(result.Errors);
            byte[] saved = File.ReadAllBytes(Path.Combine(_dir, run.MessageId, "data.bin"));
            Assert.Equal(data.Size, saved.Length);
            byte[] expected = ResultContent.For(emu.State.Find(run.MessageId)!).Single(f => f.Name == "data.bin").Bytes;
            Assert.Equal(expected, saved); // not glued from two pieces that do not belong together
        }

        [Fact]
        public async Task AResumeAsksForTheRestOnlyIfTheFileIsUnchanged()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client(o => o.RetryBaseDelay = TimeSpan.FromMilliseconds(10));
            RunSnapshot run = await Finished(client);
            await emu.ScriptAsync(new ScriptedFault { Kind = "truncate-download", Route = "GET /files", Count = 1 });

            RunDownloadResult result = await Downloader(client).DownloadAsync(run);

            Assert.Empty(result.Errors);
            DownloadRequest resume = emu.State.DownloadRequests.Single(r => r.Range.Length > 0);
            Assert.StartsWith("bytes=", resume.Range);
            Assert.StartsWith("\"", resume.IfRange); // the ETag of the first answer
            Assert.All(emu.State.DownloadRequests, r => Assert.False(r.HasApiKey));
        }

        [Fact]
        public async Task RetriesBackOffAndHonourRetryAfter()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client(o => o.RetryBaseDelay = TimeSpan.FromMilliseconds(10));
            RunSnapshot run = await Finished(client);
            await emu.ScriptAsync(new ScriptedFault { Kind = "503", Route = "GET /files", Count = 1, RetryAfterSeconds = 1 });
            var clock = Stopwatch.StartNew();

            RunDownloadResult result = await Downloader(client).DownloadAsync(run);

            Assert.Empty(result.Errors);
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.95), $"retried after {clock.Elapsed.TotalMilliseconds:0} ms despite Retry-After: 1");
        }

        [Fact]
        public async Task ARedirectedLinkIsFollowedWithoutCredentials()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            RunSnapshot run = await Finished(client);
            await emu.ScriptAsync(new ScriptedFault { Kind = "redirect-download", Route = "GET /files", Count = 1 });

            RunDownloadResult result = await Downloader(client).DownloadAsync(run);

            Assert.Empty(result.Errors);
            Assert.Equal(3, result.Files.Count);
            Assert.Equal(4, emu.State.DownloadRequests.Count); // one hop more
            Assert.All(emu.State.DownloadRequests, r => Assert.False(r.HasApiKey));
        }

        private string Zip(string name, int entries, int bytesEach, bool lie = false)
        {
            string path = Path.Combine(_dir, name);
            using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            {
                for (int i = 0; i < entries; i++)
                {
                    using Stream s = zip.CreateEntry($"dir/file{i}.txt").Open();
                    s.Write(new byte[bytesEach]);
                }
            }
            return path;
        }

        [Theory]
        [InlineData(20, 10, 5, 1_000_000, "entries")]
        [InlineData(3, 100_000, 100, 250_000, "bytes")]
        public void AnArchiveBeyondTheLimitsIsRefusedAndNothingIsUnpacked(int entries, int bytesEach, int maxEntries, long maxBytes, string what)
        {
            string zip = Zip("bomb.zip", entries, bytesEach);
            string target = Path.Combine(_dir, "bomb");

            var ex = Assert.Throws<NenException>(() => new SafeZipExtractor(maxBytes, maxEntries).Extract(zip, target, target + ".unpack", overwrite: false));

            Assert.Equal(NenErrorIds.UnsafeZipEntry, ex.ErrorId);
            Assert.Equal(NenErrorCategory.LimitsExceeded, ex.Category);
            Assert.Contains(what, ex.Message);
            Assert.False(Directory.Exists(target));
            Assert.False(Directory.Exists(target + ".unpack"));
        }

        [Fact]
        public void AHalfUnpackedFolderIsNotTakenAsDone()
        {
            string zip = Zip("assets.zip", 3, 10);
            string target = Path.Combine(_dir, "assets");
            string staging = Path.Combine(_dir, "work", "assets.unpack");
            // A crash mid-way left a staging folder with one file of three.
            Directory.CreateDirectory(Path.Combine(staging, "dir"));
            File.WriteAllText(Path.Combine(staging, "dir", "file0.txt"), "half");

            ExtractedArchive first = new SafeZipExtractor(1_000_000, 100).Extract(zip, target, staging, overwrite: false);
            ExtractedArchive second = new SafeZipExtractor(1_000_000, 100).Extract(zip, target, staging, overwrite: false);

            Assert.False(first.AlreadyThere);
            Assert.Equal(3, first.Files.Count);
            Assert.All(first.Files, f => Assert.Equal(10, new FileInfo(f).Length));
            Assert.False(Directory.Exists(staging));
            Assert.True(second.AlreadyThere);
            Assert.Equal(3, second.Files.Count);
        }
    }
}
