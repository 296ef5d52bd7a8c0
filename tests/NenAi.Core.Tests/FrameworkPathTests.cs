using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Files;
using NenAi.Core.Journal;
using NenAi.Core.Models;
using NenAi.Core.Webhooks;
using NenAi.Core.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// .NET Framework's own path behaviour, which Windows PowerShell 5.1 has and this machine does not: its rules as data
    /// (<see cref="FrameworkPathRules"/>, with the reference-source lines), and the module's code run under them
    /// (<see cref="PathLimit.AsOnNetFramework"/>: each path method throws what .NET Framework's would). Every case ends in
    /// the module's own error id, and the module's checks come first: the simulated method never gets to throw, except
    /// where a case is there to show that what it throws is mapped.
    /// </summary>
    public sealed class FrameworkPathTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-fxpath-").FullName;
        private readonly List<Exception> _thrown = new List<Exception>();

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private PathLimit AsOn(FrameworkPathRules rules) => PathLimit.AsOnNetFramework(rules, _thrown.Add);

        public static TheoryData<bool, bool> Switches() => new TheoryData<bool, bool> { { true, true }, { true, false }, { false, true } };

        /// <summary>A folder under the test folder whose full path is exactly <paramref name="length"/> characters.</summary>
        private string FolderOfLength(int length)
        {
            string folder = _dir;
            while (folder.Length < length)
            {
                int part = Math.Min(length - folder.Length - 1, 60);
                folder = part < 1 ? folder + "x" : Path.Combine(folder, new string('d', part));
            }
            Assert.Equal(length, folder.Length);
            return folder;
        }

        // ---- The rules as data --------------------------------------------------------------------------------

        [Fact]
        public void TheIllegalCharactersAreThoseOfPathInternal()
        {
            // pathinternal.cs lines 32-39: '"', '<', '>', '|', NUL and (char)1 to (char)31; path.cs line 77 (Path.InvalidPathChars) is the same list.
            var expected = new[] { '"', '<', '>', '|' }.Concat(Enumerable.Range(0, 32).Select(i => (char)i)).OrderBy(c => c);
            Assert.Equal(expected, FrameworkPathRules.InvalidPathChars.OrderBy(c => c));
            Assert.Equal(36, FrameworkPathRules.InvalidPathChars.Count);
        }

        [Theory]
        [InlineData(false, false, false)] // a host that targets 4.6.2+ (or sets both off): long paths
        [InlineData(true, false, true)]
        [InlineData(false, true, true)]   // legacy handling alone: GetFullPathName in a MAX_PATH buffer, no \\?\ prefix
        [InlineData(true, true, true)]    // powershell.exe: no target framework, 4.0 defaults
        public void TheLimitIsOnWhenEitherSwitchIs(bool blockLongPaths, bool useLegacyPathHandling, bool limited)
        {
            FrameworkPathRules rules = FrameworkPathRules.For(blockLongPaths, useLegacyPathHandling);

            Assert.Equal(limited, rules.LimitsLength);
            Assert.Same(limited ? PathLimit.MaxPath : PathLimit.None, PathLimit.For(blockLongPaths, useLegacyPathHandling));
            Assert.Equal(limited, rules.GetFullPathThrows("C:\\" + new string('x', 257)) is PathTooLongException);
            Assert.Null(rules.GetFullPathThrows("C:\\" + new string('x', 256)));
            Assert.Equal(limited, rules.CreateDirectoryThrows("C:\\" + new string('x', 245)) is PathTooLongException);
            Assert.Null(rules.CreateDirectoryThrows("C:\\" + new string('x', 244)));
        }

        [Fact]
        public void WindowsPowerShellHasBothSwitchesOnAndTheModuleReadsBoth()
        {
            // AppContextDefaultValues.cs 39-58 (no TFM: 4.0) and AppContextDefaultValues.Defaults.cs 56-60 (both true up to 4.6.1).
            Assert.True(FrameworkPathRules.WindowsPowerShell.BlockLongPaths);
            Assert.True(FrameworkPathRules.WindowsPowerShell.UseLegacyPathHandling);
            Assert.Equal("Switch.System.IO.BlockLongPaths", FrameworkPathRules.BlockLongPathsSwitch);
            Assert.Equal("Switch.System.IO.UseLegacyPathHandling", FrameworkPathRules.UseLegacyPathHandlingSwitch);
            Assert.Equal((259, 247), (PathLimit.MaxPath.MaxFile, PathLimit.MaxPath.MaxFolder)); // below 260 and 248 (pathinternal.cs 23-24)
            Assert.Same(PathLimit.None, PathLimit.ForThisProcess()); // .NET 10 has neither
        }

        [Fact]
        public void AnIllegalCharacterThrowsInEveryPathMethodWhateverTheSwitches()
        {
            foreach (var rules in new[] { FrameworkPathRules.For(false, false), FrameworkPathRules.WindowsPowerShell })
            {
                Assert.IsType<ArgumentException>(rules.CharacterCheckThrows("re|port.csv"));
                Assert.IsType<ArgumentException>(rules.GetFullPathThrows("C:\\out\\a\"b"));
                Assert.Null(rules.CharacterCheckThrows("report (1).csv"));
            }
        }

        // ---- What the module does under them --------------------------------------------------------------------

        [Theory]
        [InlineData(typeof(SafeFileName))]
        [InlineData(typeof(SafeZipExtractor))]
        [InlineData(typeof(RunFolderLayout))]
        [InlineData(typeof(RunJournal))]
        [InlineData(typeof(JournalReader))]
        [InlineData(typeof(FolderCheck))]
        [InlineData(typeof(DestinationCheck))]
        [InlineData(typeof(UpdateLedger))] // Receive-NenWebhook -StatePath: before, GetFullPath ran first and its PathTooLongException escaped raw
        [InlineData(typeof(WebhookStateFile))] // the file UpdateLedger writes through (issue 26 moved the opening there)
        public void NoPathCodeCallsAFrameworkPathMethodThatThrowsForTheNameOrLengthExceptThroughPathLimit(Type type)
        {
            // Path.IsPathRooted throws ArgumentException for an illegal character on .NET Framework (path.cs 1186-1188), and
            // Path.GetFullPath that or PathTooLongException (374-377). Called directly, either pre-empts the module's check on
            // 5.1 and escapes raw; through PathLimit, the length is checked first and what it throws is mapped (and these
            // tests' simulation of .NET Framework sees every call). Before: SafeFileName.Problem called IsPathRooted, and
            // SafeFileName.Combine, SafeZipExtractor.Extract, RunFolderLayout, RunJournal.Open, JournalReader.Read and
            // FolderCheck called GetFullPath.
            var direct = MethodCalls.Of(type)
                .Where(c => c.Called.DeclaringType == typeof(Path) && (c.Called.Name == nameof(Path.GetFullPath) || c.Called.Name == nameof(Path.IsPathRooted)))
                .Select(c => $"{c.Caller} calls Path.{c.Called.Name}")
                .ToList();

            Assert.Empty(direct);
            Assert.Contains(MethodCalls.Of(typeof(PathLimit)), c => c.Called.DeclaringType == typeof(Path) && c.Called.Name == nameof(Path.GetFullPath)); // the scan sees such calls
        }

        public static TheoryData<char> IllegalCharacters()
        {
            var data = new TheoryData<char>();
            foreach (char c in FrameworkPathRules.InvalidPathChars) data.Add(c);
            return data;
        }

        [Theory]
        [MemberData(nameof(IllegalCharacters))]
        public void EveryCharacterDotNetFrameworkRefusesIsTheModulesUnsafeFileNameBeforeAnyPathMethodSeesIt(char c)
        {
            string name = "a" + c + "b.txt";

            Assert.NotNull(SafeFileName.Problem(name)); // before: Path.IsPathRooted ran first, and on .NET Framework threw ArgumentException
            NenException combine = Assert.Throws<NenException>(() => SafeFileName.Combine(_dir, name, AsOn(FrameworkPathRules.WindowsPowerShell)));
            NenException run = Assert.Throws<NenException>(() => SafeFileName.Validate("run" + c + "1", "run"));

            Assert.Equal((NenErrorIds.UnsafeFileName, NenErrorCategory.SecurityError), (combine.ErrorId, combine.Category));
            Assert.Equal(NenErrorIds.UnsafeFileName, run.ErrorId);
            Assert.Empty(_thrown);
        }

        [Theory]
        [MemberData(nameof(Switches))]
        public void AFileOf260OrAFolderOf248IsNenPathTooLongUnderEitherSwitchAndNeverFrameworksException(bool blockLongPaths, bool useLegacyPathHandling)
        {
            PathLimit limit = AsOn(FrameworkPathRules.For(blockLongPaths, useLegacyPathHandling));
            string folder247 = FolderOfLength(247);
            string name = new string('f', 259 - folder247.Length - 1);

            string fits = SafeFileName.Combine(folder247, name, limit);                                  // 259: the longest file
            NenException file = Assert.Throws<NenException>(() => SafeFileName.Combine(folder247, name + "x", limit)); // 260
            NenException runFolder = Assert.Throws<NenException>(() => SafeFileName.Combine(_dir, new string('r', 247 - _dir.Length), limit, "the folder of run r", folder: true)); // 248

            Assert.Equal(259, fits.Length);
            Assert.Equal((NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded), (file.ErrorId, file.Category));
            Assert.Contains("260 characters", file.Message);
            Assert.Equal(NenErrorIds.PathTooLong, runFolder.ErrorId);
            Assert.Contains("248 characters", runFolder.Message);
            Assert.Empty(_thrown); // the module's check came first
        }

        [Fact]
        public void WithBothSwitchesOffTheSamePathsAreFine()
        {
            PathLimit limit = AsOn(FrameworkPathRules.For(false, false));
            string folder = FolderOfLength(300);

            Assert.Equal(300 + 1 + 40, SafeFileName.Combine(folder, new string('f', 40), limit).Length);
        }

        [Fact]
        public void WhatAFrameworkPathMethodThrowsAllTheSameIsTheModulesError()
        {
            PathLimit limit = AsOn(FrameworkPathRules.WindowsPowerShell);
            string relative = Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(FolderOfLength(250), "batch.jsonl"));

            // A relative path: its full length is known only to GetFullPath, which throws; and an illegal character in the user's own path.
            NenException tooLong = Assert.Throws<NenException>(() => limit.FullPath(relative, folder: false, "the journal 'x'"));
            NenException illegal = Assert.Throws<NenException>(() => limit.FullPath("out|put", folder: true, "the folder 'out|put'"));
            NenException unsafeName = Assert.Throws<NenException>(() => limit.FullPath("C:\\out\\a>b", folder: false, "the file 'a>b'", NenErrorIds.UnsafeFileName));

            Assert.Equal(3, _thrown.Count); // each came from the simulated .NET Framework method
            Assert.Equal(NenErrorIds.PathTooLong, tooLong.ErrorId);
            Assert.IsType<PathTooLongException>(tooLong.InnerException);
            Assert.Equal((NenErrorIds.InvalidPath, NenErrorCategory.InvalidArgument), (illegal.ErrorId, illegal.Category));
            Assert.IsType<ArgumentException>(illegal.InnerException);
            Assert.Equal((NenErrorIds.UnsafeFileName, NenErrorCategory.SecurityError), (unsafeName.ErrorId, unsafeName.Category));
            Assert.Null(limit.Refusal(new IOException("disk full"), "C:\\x", false, "x")); // not a refusal of the path: left as it is
        }

        // ---- The code paths: downloads, archives, the journal -----------------------------------------------------

        [Fact]
        public async Task AResultWithAnIllegalCharacterIsNenUnsafeFileNameAndTheRunsOtherFilesAreSaved()
        {
            await using var server = await ResultServer.StartAsync(("ok.txt", ResultServer.Text("fine")), ("in<voice>.pdf", ResultServer.Text("evil")), ("r\u0007.txt", ResultServer.Text("bell")));
            RunSnapshot run = server.Run();
            var options = new ResultDownloadOptions(_dir) { PathLimit = AsOn(FrameworkPathRules.WindowsPowerShell) };

            RunDownloadResult result = await new ResultDownloader(ResultServer.Client(), options).DownloadAsync(run);

            // Before, on 5.1: NenDownloadFailed ("Illegal characters in path.") for each, from Path.IsPathRooted.
            Assert.Equal(new[] { NenErrorIds.UnsafeFileName, NenErrorIds.UnsafeFileName }, result.Errors.Select(e => e.ErrorId));
            Assert.Equal("ok.txt", Assert.Single(result.Files).Name);
            Assert.Empty(_thrown);
        }

        [Fact]
        public async Task ARunIdWithAnIllegalCharacterIsNenUnsafeFileNameNotAnArgumentException()
        {
            await using var server = await ResultServer.StartAsync(("ok.txt", ResultServer.Text("fine")));
            var options = new ResultDownloadOptions(_dir) { PathLimit = AsOn(FrameworkPathRules.WindowsPowerShell) };

            NenException ex = await Assert.ThrowsAsync<NenException>(() => new ResultDownloader(ResultServer.Client(), options).DownloadAsync(server.Run("run|1")));

            Assert.Equal(NenErrorIds.UnsafeFileName, ex.ErrorId);
            Assert.Contains("run|1", ex.Message);
            Assert.Empty(_thrown);
        }

        [Theory]
        [MemberData(nameof(Switches))]
        public async Task ADestinationTooLongForTheRunFolderIsNenPathTooLong(bool blockLongPaths, bool useLegacyPathHandling)
        {
            await using var server = await ResultServer.StartAsync(("ok.txt", ResultServer.Text("fine")));
            RunSnapshot run = server.Run();
            var options = new ResultDownloadOptions(FolderOfLength(255)) { PathLimit = AsOn(FrameworkPathRules.For(blockLongPaths, useLegacyPathHandling)) };

            NenException ex = await Assert.ThrowsAsync<NenException>(() => new ResultDownloader(ResultServer.Client(), options).DownloadAsync(run));

            Assert.Equal(NenErrorIds.PathTooLong, ex.ErrorId);
            Assert.Empty(_thrown);
        }

        private string ZipOf(params string[] entries)
        {
            string zip = Path.Combine(_dir, "assets.zip");
            using (ZipArchive archive = ZipFile.Open(zip, ZipArchiveMode.Create))
            {
                foreach (string entry in entries)
                {
                    using var writer = new StreamWriter(archive.CreateEntry(entry).Open());
                    writer.Write(entry);
                }
            }
            return zip;
        }

        [Theory]
        [InlineData("docs/in|dex.txt")]
        [InlineData("docs/\"quoted\".txt")]
        [InlineData("tab\there.txt")]
        public void AnArchiveEntryWithAnIllegalCharacterIsNenUnsafeZipEntry(string entry)
        {
            string zip = ZipOf("fine.txt", entry);
            var extractor = new SafeZipExtractor(1_000_000, 100, AsOn(FrameworkPathRules.WindowsPowerShell));

            NenException ex = Assert.Throws<NenException>(() => extractor.Extract(zip, Path.Combine(_dir, "assets"), Path.Combine(_dir, "staging"), overwrite: false));

            Assert.Equal((NenErrorIds.UnsafeZipEntry, NenErrorCategory.SecurityError), (ex.ErrorId, ex.Category));
            Assert.False(Directory.Exists(Path.Combine(_dir, "assets")));
            Assert.Empty(_thrown);
        }

        [Theory]
        [MemberData(nameof(Switches))]
        public void AnArchiveEntryOrTargetTooLongIsNenPathTooLongAndNothingIsUnpacked(bool blockLongPaths, bool useLegacyPathHandling)
        {
            FrameworkPathRules rules = FrameworkPathRules.For(blockLongPaths, useLegacyPathHandling);
            string target = Path.Combine(FolderOfLength(200), "assets");
            string zip = ZipOf("short.txt", "deep/" + new string('e', 60) + ".txt"); // 207 + 5 + 64: past 259
            var extractor = new SafeZipExtractor(1_000_000, 100, AsOn(rules));

            NenException entry = Assert.Throws<NenException>(() => extractor.Extract(zip, target, Path.Combine(_dir, "s"), overwrite: false));
            NenException folder = Assert.Throws<NenException>(() => extractor.Extract(zip, Path.Combine(FolderOfLength(250), "a"), Path.Combine(_dir, "s"), overwrite: false));

            Assert.Equal(NenErrorIds.PathTooLong, entry.ErrorId);
            Assert.Contains("Nothing was unpacked", entry.Message);
            Assert.Equal(NenErrorIds.PathTooLong, folder.ErrorId);
            Assert.False(Directory.Exists(target));
            Assert.Empty(_thrown);
        }

        [Theory]
        [MemberData(nameof(Switches))]
        public void AJournalPathTooLongIsNenPathTooLongUnderEitherSwitch(bool blockLongPaths, bool useLegacyPathHandling)
        {
            PathLimit limit = AsOn(FrameworkPathRules.For(blockLongPaths, useLegacyPathHandling));
            string journal = Path.Combine(FolderOfLength(250), "batch.jsonl");

            NenException ex = Assert.Throws<NenException>(() => RunJournal.Open(journal, limit, null));

            Assert.Equal((NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded), (ex.ErrorId, ex.Category));
            Assert.False(File.Exists(journal));
            Assert.Empty(_thrown); // before: GetFullPath ran first and its PathTooLongException escaped as it was
            using RunJournal fine = RunJournal.Open(journal, AsOn(FrameworkPathRules.For(false, false)), null);
        }

        [Theory]
        [MemberData(nameof(Switches))]
        public void AWebhookStateFileTooLongIsNenPathTooLongUnderEitherSwitch(bool blockLongPaths, bool useLegacyPathHandling)
        {
            PathLimit limit = AsOn(FrameworkPathRules.For(blockLongPaths, useLegacyPathHandling));
            string state = Path.Combine(FolderOfLength(250), "webhooks.jsonl");

            NenException ex = Assert.Throws<NenException>(() => UpdateLedger.Open(state, limit));

            Assert.Equal((NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded), (ex.ErrorId, ex.Category));
            Assert.False(File.Exists(state));
            Assert.Empty(_thrown);
            using UpdateLedger fine = UpdateLedger.Open(state, AsOn(FrameworkPathRules.For(false, false)));
        }

        [Fact]
        public void AJournalOrStateFileInAFolderTooLongToCreateIsNenPathTooLongAndFineWhereTheFolderIsThere()
        {
            // .NET Framework's Directory.CreateDirectory refuses a folder of 248 or more it must create (directory.cs
            // 326-327; CreateDirectoryW's own limit without the \\?\ prefix), though a file of up to 259 in it opens.
            // Before: that PathTooLongException was NenJournalWriteFailed (the state file: NenWebhookStateWriteFailed).
            FrameworkPathRules rules = FrameworkPathRules.WindowsPowerShell;
            string folder = FolderOfLength(249);
            Assert.IsType<PathTooLongException>(rules.CreateDirectoryThrows(folder));
            string journal = Path.Combine(folder, "j"), state = Path.Combine(folder, "s");

            NenException journalError = Assert.Throws<NenException>(() => RunJournal.Open(journal, AsOn(rules), null));
            NenException stateError = Assert.Throws<NenException>(() => UpdateLedger.Open(state, AsOn(rules)));

            Assert.Equal((NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded), (journalError.ErrorId, journalError.Category));
            Assert.Contains("249 characters", journalError.Message);
            Assert.Equal(NenErrorIds.PathTooLong, stateError.ErrorId);
            Assert.False(Directory.Exists(folder));
            Directory.CreateDirectory(folder); // made some other way: nothing to create, and the files themselves fit
            using (RunJournal.Open(journal, AsOn(rules), null)) { }
            using (UpdateLedger.Open(state, AsOn(rules))) { }
            Assert.Empty(_thrown);
        }

        [Fact]
        public void AJournalPathWithAnIllegalCharacterIsNenInvalidPath()
        {
            NenException ex = Assert.Throws<NenException>(() => RunJournal.Open("batch|1.jsonl", AsOn(FrameworkPathRules.WindowsPowerShell), null));

            Assert.Equal((NenErrorIds.InvalidPath, NenErrorCategory.InvalidArgument), (ex.ErrorId, ex.Category));
            Assert.Contains("batch|1.jsonl", ex.Message);
        }

        [Fact]
        public void ADestinationTooLongForGetNenRunResultIsOneNenPathTooLongUpFront()
        {
            NenException ex = Assert.Throws<NenException>(() => FolderCheck.FileInTheWay(FolderOfLength(248), AsOn(FrameworkPathRules.WindowsPowerShell)));

            Assert.Equal(NenErrorIds.PathTooLong, ex.ErrorId);
            Assert.Null(FolderCheck.FileInTheWay(FolderOfLength(247), AsOn(FrameworkPathRules.WindowsPowerShell)));
            Assert.Empty(_thrown);
        }
    }
}
