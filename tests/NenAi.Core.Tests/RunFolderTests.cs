using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Files;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// A run folder holds what the service sent, under the names it chose, whatever they are: working files never
    /// share a name with a result, an archive never unpacks over the run folder or another result, names Windows takes
    /// as one file are told apart, paths too long for Windows PowerShell 5.1 are refused before anything is written, and
    /// a full disk is a write error at once.
    /// </summary>
    public sealed class RunFolderTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-runfolder-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private string RunFolder(RunSnapshot run) => Path.Combine(_dir, run.MessageId);

        private static Task<RunDownloadResult> Download(RunSnapshot run, string destination, bool expand = false, bool force = false, PathLimit? paths = null, int retries = 5) =>
            new ResultDownloader(ResultServer.Client(retries), new ResultDownloadOptions(destination) { Expand = expand, Force = force, PathLimit = paths ?? PathLimit.None }).DownloadAsync(run);

        private string[] Entries(string folder) =>
            Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(folder, p).Replace('\\', '/')).OrderBy(p => p, StringComparer.Ordinal).ToArray();

        [Fact]
        public async Task ResultsNamedLikeWorkingFilesAreSavedAsThemselves()
        {
            // In this order: before, saving "report" went through "report.partial", which was the result saved just before.
            await using var server = await ResultServer.StartAsync(
                ("report.partial", ResultServer.Text("a result, not a working file")),
                ("report", ResultServer.Text("the report")),
                ("report.etag", ResultServer.Text("also a result")),
                ("report.partial.etag", ResultServer.Text("and this one")));
            RunSnapshot run = server.Run();

            RunDownloadResult first = await Download(run, _dir);
            RunDownloadResult again = await Download(run, _dir);

            Assert.Empty(first.Errors);
            Assert.Equal(new[] { "report", "report.etag", "report.partial", "report.partial.etag" }, Entries(RunFolder(run)));
            Assert.Equal("the report", File.ReadAllText(Path.Combine(RunFolder(run), "report")));
            Assert.Equal("a result, not a working file", File.ReadAllText(Path.Combine(RunFolder(run), "report.partial")));
            Assert.Equal("and this one", File.ReadAllText(Path.Combine(RunFolder(run), "report.partial.etag")));
            Assert.All(first.Files, f => Assert.False(f.Skipped));
            Assert.Empty(again.Errors);
            Assert.Equal(4, again.Files.Count(f => f.Skipped && File.Exists(f.Path)));
        }

        [Fact]
        public async Task AnArchiveNamedDotZipUnpacksBesideTheOtherResultsAndForceKeepsThem()
        {
            await using var server = await ResultServer.StartAsync(
                ("a.txt", ResultServer.Text("keep me")),
                (".zip", ResultServer.Zip(("inner.txt", "unpacked"))));
            RunSnapshot run = server.Run();

            RunDownloadResult expanded = await Download(run, _dir, expand: true);
            RunDownloadResult forced = await Download(run, _dir, expand: true, force: true);

            Assert.Empty(expanded.Errors);
            // Before: the run folder itself was taken for the archive's folder, so its files came back as "skipped" rows.
            Assert.Equal(new[] { ".zip", "a.txt", "zip", "zip/inner.txt" }, Entries(RunFolder(run)));
            Assert.Equal(new[] { "a.txt", ".zip", "inner.txt" }, expanded.Files.Select(f => f.Name));
            Assert.All(expanded.Files, f => Assert.False(f.Skipped));
            Assert.Empty(forced.Errors);
            // Before: -Force deleted the run folder (the other results with it) to unpack the archive there.
            Assert.Equal("keep me", File.ReadAllText(Path.Combine(RunFolder(run), "a.txt")));
            Assert.Equal("unpacked", File.ReadAllText(Path.Combine(RunFolder(run), "zip", "inner.txt")));
            Assert.Equal(new[] { ".zip", "a.txt", "zip", "zip/inner.txt" }, Entries(RunFolder(run)));
        }

        [Fact]
        public async Task AnArchiveBesideAResultOfItsNameUnpacksIntoAFolderOfItsOwn()
        {
            await using var server = await ResultServer.StartAsync(
                ("a", ResultServer.Text("a plain result")),
                ("a.zip", ResultServer.Zip(("x.txt", "x"))),
                ("zip", ResultServer.Text("a result called zip")),
                ("A (unpacked)", ResultServer.Text("a result with the first fallback name")));
            RunSnapshot run = server.Run();

            RunDownloadResult result = await Download(run, _dir, expand: true);

            Assert.Empty(result.Errors);
            Assert.Equal("a plain result", File.ReadAllText(Path.Combine(RunFolder(run), "a")));
            Assert.Equal("x", File.ReadAllText(Path.Combine(RunFolder(run), "a (unpacked 2)", "x.txt")));
            Assert.Equal("a result called zip", File.ReadAllText(Path.Combine(RunFolder(run), "zip")));
        }

        [Fact]
        public async Task NamesThatDifferOnlyInCaseAreOneFileOnWindowsSoOnlyTheFirstIsSaved()
        {
            await using var server = await ResultServer.StartAsync(
                ("Report.csv", ResultServer.Text("first")),
                ("report.csv", ResultServer.Text("second")),
                ("Report.csv", ResultServer.Text("listed twice")),
                ("other.csv", ResultServer.Text("other")));
            RunSnapshot run = server.Run();

            RunDownloadResult result = await Download(run, _dir);
            RunDownloadResult again = await Download(run, _dir);

            Assert.Equal(new[] { "Report.csv", "other.csv" }, result.Files.Select(f => f.Name));
            Assert.Equal("first", File.ReadAllText(Path.Combine(RunFolder(run), "Report.csv")));
            Assert.Equal(new[] { "Report.csv", "other.csv" }, Entries(RunFolder(run)));
            Assert.Equal(2, result.Errors.Count);
            Assert.All(result.Errors, e => Assert.Equal((NenErrorIds.ResultNameConflict, NenErrorCategory.ResourceExists), (e.ErrorId, e.Category)));
            Assert.Contains("differs from the result 'Report.csv' only in case", result.Errors[0].Message);
            Assert.Contains("twice", result.Errors[1].Message);
            Assert.Equal(0, server.RequestsFor(1) + server.RequestsFor(2)); // never downloaded
            // Before: the second was "already complete" (same size) or overwrote the first, depending on the sizes.
            Assert.All(again.Files, f => Assert.True(f.Skipped));
            Assert.Equal(2, again.Errors.Count);
        }

        [Fact]
        public async Task ArchiveEntriesThatWouldBeOneFileOnWindowsDoNotStopExpand()
        {
            await using var server = await ResultServer.StartAsync(("x.zip", ResultServer.Zip(
                ("a.txt", "lower"), ("A.txt", "upper"), ("Dir/one.txt", "1"), ("dir/two.txt", "2"), ("f", "a file"), ("f/g", "under a file"))));
            RunSnapshot run = server.Run();

            RunDownloadResult result = await Download(run, _dir, expand: true);

            string folder = Path.Combine(RunFolder(run), "x");
            Assert.Equal(new[] { "Dir", "Dir/one.txt", "Dir/two.txt", "a.txt", "f" }, Entries(folder));
            Assert.Equal("lower", File.ReadAllText(Path.Combine(folder, "a.txt")));
            Assert.Equal(2, result.Errors.Count);
            Assert.All(result.Errors, e => Assert.Equal(NenErrorIds.ResultNameConflict, e.ErrorId));
            Assert.Contains("'A.txt'", result.Errors[0].Message);
            Assert.Contains("'f/g'", result.Errors[1].Message);
            Assert.Equal(4, result.Files.Count(f => f.Expanded));
        }

        [Theory]
        [InlineData(".nenai")]
        [InlineData(".NenAi")]
        public async Task AResultNamedLikeTheWorkingFolderIsRefused(string name)
        {
            await using var server = await ResultServer.StartAsync(("big.bin", new byte[1000]), (name, ResultServer.Text("evil")));
            RunSnapshot run = server.Run();

            RunDownloadResult result = await Download(run, _dir);

            NenException error = Assert.Single(result.Errors);
            Assert.Equal(NenErrorIds.UnsafeFileName, error.ErrorId);
            Assert.Equal(new[] { "big.bin" }, Entries(RunFolder(run)));
        }

        /// <summary>A destination whose run folder is <paramref name="runFolderLength"/> characters long.</summary>
        private string DestinationFor(string messageId, int runFolderLength)
        {
            string destination = _dir;
            int missing = runFolderLength - (destination.Length + 1 + messageId.Length);
            while (missing > 0)
            {
                int part = Math.Min(missing - 1, 60);
                if (part < 1) { destination += "x"; missing--; continue; }
                destination = Path.Combine(destination, new string('d', part));
                missing -= part + 1;
            }
            Assert.Equal(runFolderLength, Path.Combine(destination, messageId).Length);
            return destination;
        }

        [Fact]
        public async Task APathTooLongForWindowsPowerShellIsRefusedBeforeAnythingIsWritten()
        {
            // The run folder is 200 characters: "ok.txt" fits, a 70-character name does not (259 at most on 5.1).
            string longName = new string('n', 66) + ".txt";
            await using var server = await ResultServer.StartAsync(("ok.txt", ResultServer.Text("fits")), (longName, ResultServer.Text("too long")));
            RunSnapshot run = server.Run();
            string destination = DestinationFor(run.MessageId, 200);

            RunDownloadResult limited = await Download(run, destination, paths: PathLimit.MaxPath);

            NenException error = Assert.Single(limited.Errors);
            Assert.Equal((NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded), (error.ErrorId, error.Category));
            Assert.Contains("271 characters", error.Message);
            Assert.Contains("at most 259", error.Message);
            Assert.Equal(0, server.RequestsFor(1)); // refused before the download, so nothing of it is anywhere
            Assert.Equal(new[] { "ok.txt" }, Entries(Path.Combine(destination, run.MessageId)));

            // PowerShell 7 has no such limit: the same run is whole there.
            RunDownloadResult unlimited = await Download(run, destination, paths: PathLimit.None);
            Assert.Empty(unlimited.Errors);
        }

        [Fact]
        public async Task ARunFolderOrArchiveEntryTooLongIsRefusedAndNothingOfTheArchiveIsUnpacked()
        {
            await using var server = await ResultServer.StartAsync(("x.zip", ResultServer.Zip(("short.txt", "s"), (new string('e', 50) + ".txt", "long"))));
            RunSnapshot run = server.Run();

            NenException folder = await Assert.ThrowsAsync<NenException>(() => Download(run, DestinationFor(run.MessageId, 248), paths: PathLimit.MaxPath));
            RunDownloadResult entry = await Download(run, DestinationFor(run.MessageId, 200), expand: true, paths: PathLimit.MaxPath);

            Assert.Equal(NenErrorIds.PathTooLong, folder.ErrorId);
            Assert.Contains("folder", folder.Message);
            NenException error = Assert.Single(entry.Errors);
            Assert.Equal(NenErrorIds.PathTooLong, error.ErrorId);
            Assert.Contains("Nothing was unpacked", error.Message);
            Assert.Equal(new[] { "x.zip" }, Entries(Path.Combine(DestinationFor(run.MessageId, 200), run.MessageId)));
        }

        [TmpfsFact]
        public async Task AFullDiskIsAWriteErrorAtOnceNotARetriedNetworkFailure()
        {
            using TmpfsMount disk = TmpfsMount.Create(sizeKiB: 64);
            await using var server = await ResultServer.StartAsync(("small.txt", ResultServer.Text("fits")), ("big.bin", new byte[300_000]));
            RunSnapshot run = server.Run();

            var downloader = new ResultDownloader(ResultServer.Client(5), new ResultDownloadOptions(disk.Path) { PathLimit = PathLimit.None });
            RunDownloadResult result = await downloader.DownloadAsync(run);

            // The part of big.bin kept for a resume leaves no room: the disk is full for every file, so it is the one
            // error that stops the downloads (changed deliberately: before, this file's own NenDownloadFailed, and one
            // more for every later file).
            Assert.Empty(result.Errors);
            NenException error = Assert.IsAssignableFrom<NenException>(downloader.StoppedBecause);
            Assert.Equal((NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError), (error.ErrorId, error.Category));
            Assert.Contains("disk is full", error.Message);
            Assert.Contains("No space left", error.InnerException!.Message);
            Assert.Equal(1, server.RequestsFor(1)); // before: 6 requests, retried as a network interruption (ConnectionError)
            Assert.Equal("fits", File.ReadAllText(Path.Combine(disk.Path, run.MessageId, "small.txt")));
        }
    }
}
