using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Files;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// The file decisions Windows needs, as pure functions run here: which names are devices, how long a path Windows
    /// PowerShell 5.1 writes, which failures are a scanner holding a file for a moment (tried again) and which are not.
    /// </summary>
    public sealed class FileRulesTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-filerules-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        public static TheoryData<string> DeviceNames()
        {
            var names = new TheoryData<string> { "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "con", "Nul.txt", "aux.tar.gz", "CON .txt", "lpt1.log" };
            for (int digit = 0; digit <= 9; digit++) { names.Add("COM" + digit); names.Add("LPT" + digit); }
            foreach (char superscript in "\u00B9\u00B2\u00B3") { names.Add("COM" + superscript); names.Add("lpt" + superscript + ".txt"); }
            return names;
        }

        [Theory]
        [InlineData("a:b.txt")]
        [InlineData("C:")]
        [InlineData("report.txt:hidden")]
        public void AColonIsRefusedForWhatItIsNotAsAnAbsolutePath(string name)
        {
            string problem = SafeFileName.Problem(name)!;
            Assert.Contains("':'", problem);
            Assert.Contains("drive or a stream", problem);
            Assert.DoesNotContain("absolute", problem);
        }

        [Theory]
        [InlineData("C:\\x.txt")]
        [InlineData("c:/x.txt")]
        [InlineData("/etc/passwd")]
        [InlineData("\\\\server\\share")]
        public void ARootedNameIsStillAnAbsolutePath(string name)
        {
            Assert.Equal("the name is an absolute path", SafeFileName.Problem(name));
        }

        [Theory]
        [MemberData(nameof(DeviceNames))]
        public void EveryWindowsDeviceNameIsRefused(string name)
        {
            Assert.Contains("reserved device name", SafeFileName.Problem(name));
        }

        [Theory]
        [InlineData("COM10")]
        [InlineData("LPT")]
        [InlineData("CONSOLE.txt")]
        [InlineData("COM\u00B9\u00B2")]
        [InlineData("COM\u2074")] // superscript four is no port
        [InlineData("xCON")]
        [InlineData("NUL_report.txt")]
        public void NamesThatOnlyLookLikeDevicesAreFine(string name)
        {
            Assert.Null(SafeFileName.Problem(name));
        }

        [Fact]
        public void TheListHasEveryDevice()
        {
            // CON PRN AUX NUL CONIN$ CONOUT$, COM0-9, LPT0-9, COM/LPT with superscript 1-3: before, COM0, LPT0 and the six superscripts were missing.
            Assert.Equal(6 + 10 + 10 + 3 + 3, SafeFileName.ReservedDeviceNames.Count);
        }

        [Theory]
        [InlineData(259, false, null)]
        [InlineData(260, false, "260 characters")]
        [InlineData(247, true, null)]
        [InlineData(248, true, "248 characters")]
        public void WindowsPowerShellWritesFilesBelow260AndFoldersBelow248Characters(int length, bool folder, string? problem)
        {
            string path = "C:\\" + new string('x', length - 3);
            Exception? ex = Record.Exception(() => PathLimit.MaxPath.Check(path, folder, "the test file"));
            if (problem is null) Assert.Null(ex);
            else Assert.Contains(problem, Assert.IsType<NenException>(ex).Message);
            PathLimit.None.Check(path + new string('y', 40_000), folder, "the test file"); // PowerShell 7: no limit of ours
        }

        [Fact]
        public void TheLimitFollowsBothOfDotNetFrameworksPathSwitches()
        {
            // Before: BlockLongPaths alone; a host with only UseLegacyPathHandling on still cannot write 260 (FrameworkPathTests has each case).
            Assert.Same(PathLimit.MaxPath, PathLimit.For(blockLongPaths: true, useLegacyPathHandling: true));  // powershell.exe: no target framework, so 4.0 behaviour
            Assert.Same(PathLimit.MaxPath, PathLimit.For(blockLongPaths: false, useLegacyPathHandling: true));
            Assert.Same(PathLimit.None, PathLimit.For(blockLongPaths: false, useLegacyPathHandling: false));   // a host that targets 4.6.2+ or sets both off
            Assert.Same(PathLimit.None, PathLimit.ForThisProcess());                                           // .NET 10
        }

        [Theory]
        [InlineData(unchecked((int)0x80070020), true)]  // Windows ERROR_SHARING_VIOLATION
        [InlineData(unchecked((int)0x80070021), true)]  // Windows ERROR_LOCK_VIOLATION
        [InlineData(11, true)]                          // Linux EWOULDBLOCK (flock held)
        [InlineData(unchecked((int)0x80070070), false)] // Windows ERROR_DISK_FULL
        [InlineData(28, false)]                         // Linux ENOSPC
        [InlineData(30, false)]                         // Linux EROFS
        [InlineData(unchecked((int)0x80131620), false)] // a plain IOException
        public void ASharingViolationIsToldFromOtherFailures(int hresult, bool sharing)
        {
            Assert.Equal(sharing, FileErrors.IsSharingViolation(new IOException("x", hresult)));
        }

        [Fact]
        public void AFileHeldForAMomentIsTriedAgainAndOtherFailuresAreNot()
        {
            var waits = new List<TimeSpan>();
            int calls = 0;
            FileRetry.Run(() => { if (++calls < 3) throw new IOException("held by a scanner", unchecked((int)0x80070020)); }, waits.Add);
            Assert.Equal(3, calls);
            Assert.Equal(2, waits.Count);

            calls = 0;
            var full = Assert.Throws<IOException>(() => FileRetry.Run(() => { calls++; throw new IOException("disk full", unchecked((int)0x80070070)); }, waits.Add));
            Assert.Equal(1, calls);

            calls = 0;
            waits.Clear();
            Assert.Throws<UnauthorizedAccessException>(() => FileRetry.Run(() => { calls++; throw new UnauthorizedAccessException("delete pending"); }, waits.Add));
            Assert.Equal(FileRetry.MaxAttempts, calls); // bounded
            Assert.InRange(waits.Sum(w => w.TotalSeconds), 2, 5);
            Assert.Equal("disk full", full.Message);
        }

        [Theory]
        [InlineData(unchecked((int)0x80070497))] // ERROR_UNABLE_TO_REMOVE_REPLACED (1175)
        [InlineData(unchecked((int)0x80070498))] // ERROR_UNABLE_TO_MOVE_REPLACEMENT (1176): a scanner holds the file just written
        [InlineData(unchecked((int)0x80070499))] // ERROR_UNABLE_TO_MOVE_REPLACEMENT_2 (1177)
        public void AFileReplaceHeldUpByAScannerIsTriedAgainLikeASharingViolation(int hresult)
        {
            var waits = new List<TimeSpan>();
            int calls = 0;

            FileRetry.Run(() => { if (++calls == 1) throw new IOException("Unable to move the replacement file to the file to be replaced.", hresult); }, waits.Add);

            Assert.True(FileErrors.IsBriefLock(new IOException("x", hresult)));
            Assert.Equal(2, calls); // before, 1176 and 1177 were thrown at once
            Assert.Single(waits);
            Assert.False(FileErrors.IsBriefLock(new IOException("x", unchecked((int)0x8007049A)))); // 1178, ERROR_JOURNAL_DELETE_IN_PROGRESS: not ours to wait for
        }

        [Fact]
        public void AFinishedFileReplacesTheOldOneInOneStep()
        {
            string target = Path.Combine(_dir, "report.csv");
            string partial = Path.Combine(_dir, "part");
            File.WriteAllText(target, "old");
            File.WriteAllText(partial, "new");

            FileRetry.MoveIntoPlace(partial, target);
            File.WriteAllText(partial, "newer");
            FileRetry.MoveIntoPlace(partial, Path.Combine(_dir, "fresh.csv"));

            Assert.Equal("new", File.ReadAllText(target));
            Assert.Equal("newer", File.ReadAllText(Path.Combine(_dir, "fresh.csv")));
            Assert.False(File.Exists(partial));
        }
    }
}
