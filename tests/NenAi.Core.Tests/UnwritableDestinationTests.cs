using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Files;
using NenAi.Core.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// A destination that no run's files can be written to (read-only, access denied, a folder name too long, too long
    /// for Windows PowerShell 5.1) is one reason that stops every run's downloads, found at the first run's folder and
    /// before any file is fetched; every run is then "not downloaded", none failed on its own. A run's own trouble stays
    /// that run's error, and the check leaves nothing in the destination. (Acceptance: 300 runs to a read-only
    /// destination gave 300 NenDownloadFailed errors, "300 failed".)
    /// </summary>
    public sealed class UnwritableDestinationTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-destination-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        /// <summary>Runs run-1 .. run-N (each with the server's files) through one queue, as Get-NenRunResult adds them; every outcome.</summary>
        private static async Task<(ResultDownloader Downloader, List<RunDownloadOutcome> Outcomes)> DownloadAll(ResultServer server, string destination, int runs, PathLimit? paths = null, Func<int, string>? id = null)
        {
            var downloader = new ResultDownloader(ResultServer.Client(), new ResultDownloadOptions(destination) { MaxConcurrency = 4, PathLimit = paths });
            using var queue = new ResultDownloadQueue(downloader);
            var outcomes = new List<RunDownloadOutcome>();
            for (int i = 1; i <= runs; i++)
            {
                while (!queue.HasFreeSlot) outcomes.Add((await queue.TakeAsync())!);
                await queue.AddAsync(server.Run(id?.Invoke(i) ?? $"run-{i}"));
            }
            RunDownloadOutcome? outcome;
            while ((outcome = await queue.TakeAsync()) != null) outcomes.Add(outcome);
            return (downloader, outcomes);
        }

        private static Task<ResultServer> TwoFiles() => ResultServer.StartAsync(("report.txt", ResultServer.Text("report")), ("data.csv", ResultServer.Text("a,b")));

        /// <summary>The downloads stopped for one reason, which every run met or was stopped by: no run has an error of its own, no file was fetched.</summary>
        private static NenException AssertOneStop(ResultDownloader downloader, List<RunDownloadOutcome> outcomes, ResultServer server, int runs)
        {
            NenException reason = Assert.IsAssignableFrom<NenException>(downloader.StoppedBecause);
            Assert.Equal(runs, outcomes.Count);
            foreach (RunDownloadOutcome outcome in outcomes)
            {
                if (outcome.Error != null) Assert.True(outcome.Error is NenNotSentException || downloader.StoppedBy(outcome.Error), $"{outcome.MessageId}: {outcome.Error}");
                else
                {
                    Assert.Empty(outcome.Result!.Files);
                    Assert.Empty(outcome.Result.Errors);
                }
            }
            Assert.Equal(0, server.Requests);
            return reason;
        }

        [TmpfsFact]
        public async Task AReadOnlyDestinationIsOneWriteErrorThatNamesItAndNoRunFailsOnItsOwn()
        {
            // A read-only file system of the test's own (tmpfs mounted ro): root, which these tests run as, cannot write it either.
            using TmpfsMount readOnly = TmpfsMount.Create(sizeKiB: 64, readOnly: true);
            await using ResultServer server = await TwoFiles();

            foreach (string destination in new[] { readOnly.Path, Path.Combine(readOnly.Path, "nightly", "out") })
            {
                var (downloader, outcomes) = await DownloadAll(server, destination, runs: 30);

                // Before: 30 NenDownloadFailed errors, "The folder for run run-N could not be created under ...".
                NenException reason = AssertOneStop(downloader, outcomes, server, 30);
                Assert.Equal((NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError), (reason.ErrorId, reason.Category));
                Assert.Contains($"-Destination '{destination}'", reason.Message);
                Assert.Contains("read-only file system", reason.Message);
                Assert.DoesNotContain(DestinationCheck.ProbePrefix, reason.Message);
            }
        }

        [DeniedFolderFact]
        public async Task ADestinationThisAccountMayNotWriteToIsOnePermissionDenied()
        {
            using DeniedFolder denied = DeniedFolder.Create();
            await using ResultServer server = await TwoFiles();

            var (downloader, outcomes) = await DownloadAll(server, denied.Path, runs: 20);

            NenException reason = AssertOneStop(downloader, outcomes, server, 20);
            Assert.Equal((NenErrorIds.DestinationNotWritable, NenErrorCategory.PermissionDenied), (reason.ErrorId, reason.Category));
            Assert.Contains($"-Destination '{denied.Path}'", reason.Message);
            Assert.Contains($"this account ('{Environment.UserName}') may not create folders in it", reason.Message);
        }

        [Fact]
        public async Task AFolderNameLongerThanTheFileSystemAllowsIsOneNenPathTooLong()
        {
            // A 300-character folder name: no file system the module writes to takes more than 255 (NAME_MAX, NTFS).
            string destination = Path.Combine(_dir, new string('d', 300));
            await using ResultServer server = await TwoFiles();

            var (downloader, outcomes) = await DownloadAll(server, destination, runs: 20);

            NenException reason = AssertOneStop(downloader, outcomes, server, 20);
            Assert.Equal((NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded), (reason.ErrorId, reason.Category));
            Assert.Contains("-Destination '", reason.Message);
            Assert.Contains("a folder name in it is 300 characters, and file systems allow at most 255", reason.Message);
            Assert.Empty(Directory.GetFileSystemEntries(_dir));
        }

        [Fact]
        public async Task OnWindowsPowerShellADestinationTooLongForEveryRunsFolderIsOneNenPathTooLongAndNothingIsMade()
        {
            // Short enough for the check at the start (a folder below 248), too long for a run's folder in it (36 + 1 more).
            string destination = _dir + Path.DirectorySeparatorChar + new string('d', 220 - _dir.Length - 1);
            Assert.Equal(220, destination.Length);
            var thrown = new List<Exception>();
            await using ResultServer server = await TwoFiles();

            var (downloader, outcomes) = await DownloadAll(server, destination, runs: 20, PathLimit.AsOnNetFramework(FrameworkPathRules.WindowsPowerShell, thrown.Add), i => Guid.NewGuid().ToString());

            // Before: one NenPathTooLong per run ("Cannot write the folder of run ...").
            NenException reason = AssertOneStop(downloader, outcomes, server, 20);
            Assert.Equal((NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded), (reason.ErrorId, reason.Category));
            Assert.Contains("would be 257 characters", reason.Message);
            Assert.Contains("Windows PowerShell 5.1", reason.Message);
            Assert.Empty(thrown); // the module's check came first: .NET Framework's own PathTooLongException never did
            Assert.False(Directory.Exists(destination));
        }

        [Fact]
        public async Task ARunsOwnFailureIsThatRunsErrorTheOthersAreSavedAndTheCheckLeavesNothingInTheDestination()
        {
            await using ResultServer server = await TwoFiles();
            File.WriteAllText(Path.Combine(_dir, "run-2"), "a file where run-2's folder must be");
            string longId = new string('r', 230); // its folder alone is too long for Windows PowerShell 5.1
            var paths = PathLimit.AsOnNetFramework(FrameworkPathRules.WindowsPowerShell);

            var (downloader, outcomes) = await DownloadAll(server, _dir, runs: 4, paths, i => i == 4 ? longId : $"run-{i}");

            Assert.Null(downloader.StoppedBecause);
            Assert.Equal(NenErrorIds.DownloadFailed, outcomes.Single(o => o.MessageId == "run-2").Error?.ErrorId);
            Assert.Equal(NenErrorIds.PathTooLong, outcomes.Single(o => o.MessageId == longId).Error?.ErrorId);
            Assert.All(outcomes.Where(o => o.MessageId is "run-1" or "run-3"), o => Assert.Equal(2, o.Result!.Files.Count));
            Assert.Equal(new[] { "run-1", "run-2", "run-3" }, Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).OrderBy(n => n));
        }

        [TmpfsFact]
        public async Task ADestinationThatTurnedReadOnlyAfterItsRunFoldersWereMadeStopsAtTheFirstFileNotOneErrorPerFile()
        {
            // Yesterday's run folders are there; today the share is read-only: the first file that cannot be written shows it.
            using TmpfsMount disk = TmpfsMount.Create(sizeKiB: 256);
            foreach (int i in Enumerable.Range(1, 10)) Directory.CreateDirectory(Path.Combine(disk.Path, $"run-{i}"));
            disk.MakeReadOnly();
            await using ResultServer server = await TwoFiles();

            var (downloader, outcomes) = await DownloadAll(server, disk.Path, runs: 10);

            NenException reason = AssertOneStop(downloader, outcomes, server, 10);
            Assert.Equal((NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError), (reason.ErrorId, reason.Category));
        }

        [TmpfsFact]
        public async Task ADiskThatIsFullWhereFoldersCanStillBeMadeStopsAtTheFirstFileNotOneErrorPerFile()
        {
            // tmpfs, like NTFS with its small folders kept in the MFT, still makes a folder when no data can be written:
            // the run folders and the probe folder are made, and only the files meet the full disk.
            using TmpfsMount disk = TmpfsMount.Create(sizeKiB: 256);
            disk.Fill();
            await using ResultServer server = await TwoFiles();

            var (downloader, outcomes) = await DownloadAll(server, disk.Path, runs: 30);

            // Before: no stop; each file its own NenDownloadFailed ("No space left on device").
            NenException reason = Assert.IsAssignableFrom<NenException>(downloader.StoppedBecause);
            Assert.Equal((NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError), (reason.ErrorId, reason.Category));
            Assert.Contains("disk is full", reason.Message);
            Assert.Equal(30, outcomes.Count);
            foreach (RunDownloadOutcome outcome in outcomes)
            {
                if (outcome.Error != null) Assert.True(outcome.Error is NenNotSentException || downloader.StoppedBy(outcome.Error), $"{outcome.MessageId}: {outcome.Error}");
                else Assert.Empty(outcome.Result!.Errors);
            }
            Assert.True(server.Requests <= 8, $"{server.Requests} files fetched after the disk was known to be full"); // those in flight at most
            Assert.DoesNotContain(Directory.GetFileSystemEntries(disk.Path), p => Path.GetFileName(p).StartsWith(DestinationCheck.ProbePrefix, StringComparison.Ordinal));
        }

        [Fact]
        public void WhatWindowsAndUnixThrowAtTheDestinationIsTheOneErrorWithItsCategoryAndNeverNamesTheProbe()
        {
            // Windows' exceptions built as .NET builds them there (HResult 0x8007xxxx), so this runs on any platform.
            const string destination = @"D:\nightly\out";
            string probe = destination + @"\" + DestinationCheck.ProbePrefix + "0123456789ab";
            var cases = new (Exception Thrown, string Id, NenErrorCategory Category, string Says)[]
            {
                (new UnauthorizedAccessException($"Access to the path '{probe}' is denied."), NenErrorIds.DestinationNotWritable, NenErrorCategory.PermissionDenied, "may not create folders"),
                (new IOException("The media is write protected.", unchecked((int)0x80070013)), NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError, "read-only file system"),
                (new IOException($"Read-only file system : '{probe}'", 30), NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError, "read-only file system"),
                (new IOException("There is not enough space on the disk.", unchecked((int)0x80070070)), NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError, "disk is full"),
                (new IOException($"No space left on device : '{probe}'", 28), NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError, "disk is full"),
                (new DirectoryNotFoundException($"Could not find a part of the path '{probe}'."), NenErrorIds.DestinationNotWritable, NenErrorCategory.ObjectNotFound, "UNC path"),
                (new PathTooLongException("The specified path, file name, or both are too long."), NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded, "too long"),
                (new IOException($"The network name cannot be found. : '{probe}'", unchecked((int)0x80070043)), NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError, "The network name cannot be found"),
            };
            foreach (var (thrown, id, category, says) in cases)
            {
                NenException error = DestinationCheck.Refused(destination, thrown, probe);
                Assert.Equal((id, category), (error.ErrorId, error.Category));
                Assert.Contains($"-Destination '{destination}'", error.Message);
                Assert.Contains(says, error.Message);
                Assert.DoesNotContain(DestinationCheck.ProbePrefix, error.Message);
                Assert.Same(thrown, error.InnerException);
            }
        }
    }
}
