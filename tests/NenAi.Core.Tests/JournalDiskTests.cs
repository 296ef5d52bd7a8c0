using System;
using System.IO;
using NenAi.Core.Errors;
using NenAi.Core.Files;
using NenAi.Core.Journal;
using NenAi.Core.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Opening a journal on the disks users have: each failure carries the id about_NenAi gives it. In use by another
    /// batch is NenJournalInUse; a read-only or full file system is NenJournalWriteFailed (never "in use", never a raw
    /// IOException); a lock file Windows is still deleting (access denied for a moment) is waited for; a path too long
    /// for Windows PowerShell 5.1 is NenPathTooLong.
    /// </summary>
    public sealed class JournalDiskTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-journal-disk-").FullName;
        private string JournalPath => Path.Combine(_dir, "batch.jsonl");

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        [TmpfsFact]
        public void AJournalOnAReadOnlyFileSystemCannotBeWrittenAndIsNotInUse()
        {
            using TmpfsMount readOnly = TmpfsMount.Create(sizeKiB: 64, readOnly: true);

            NenException ex = Assert.Throws<NenException>(() => RunJournal.Open(Path.Combine(readOnly.Path, "batch.jsonl")));

            // Before: NenJournalInUse, "in use by another batch".
            Assert.Equal((NenErrorIds.JournalWriteFailed, NenErrorCategory.WriteError), (ex.ErrorId, ex.Category));
            Assert.Contains("Read-only file system", ex.Message);
        }

        [TmpfsFact]
        public void AFullDiskAtOpenIsAJournalWriteFailure()
        {
            using TmpfsMount disk = TmpfsMount.Create(sizeKiB: 32);
            disk.Fill();

            NenException ex = Assert.Throws<NenException>(() => RunJournal.Open(Path.Combine(disk.Path, "batch.jsonl")));

            // Before: a raw System.IO.IOException from writing the batch's first line.
            Assert.Equal((NenErrorIds.JournalWriteFailed, NenErrorCategory.WriteError), (ex.ErrorId, ex.Category));
            Assert.Contains("No space left", ex.Message);
            Assert.False(File.Exists(Path.Combine(disk.Path, "batch.jsonl.lock"))); // the lock went with the failed open
        }

        [Fact]
        public void ALockFileThatIsRefusedForAMomentIsWaitedFor()
        {
            // Access denied on the lock file is what Windows answers while the previous batch's lock is still being
            // deleted (a scanner holds it a moment). A folder in its place gives the same answer here.
            Directory.CreateDirectory(JournalPath + ".lock");
            int retries = 0;

            using (RunJournal journal = RunJournal.Open(JournalPath, PathLimit.None, attempt =>
            {
                retries = attempt;
                if (attempt == 2) Directory.Delete(JournalPath + ".lock"); // the scanner lets go
            }))
            {
                Assert.NotEmpty(journal.BatchId);
            }

            // Before: NenJournalWriteFailed at the first refusal.
            Assert.Equal(2, retries);
        }

        [Fact]
        public void ALockFileThatStaysRefusedWhileTheJournalIsWritableIsInUse()
        {
            using (RunJournal.Open(JournalPath)) { } // the previous batch
            Directory.CreateDirectory(JournalPath + ".lock");
            int retries = 0;

            NenException ex = Assert.Throws<NenException>(() => RunJournal.Open(JournalPath, PathLimit.None, attempt => retries = attempt));

            Assert.Equal((NenErrorIds.JournalInUse, NenErrorCategory.ResourceUnavailable), (ex.ErrorId, ex.Category));
            Assert.InRange(retries, 5, 50); // tried for a while (a few seconds), not for ever
        }

        [Fact]
        public void ALockFileThatStaysRefusedWithoutAJournalToWriteCannotBeOpened()
        {
            Directory.CreateDirectory(JournalPath + ".lock");

            NenException ex = Assert.Throws<NenException>(() => RunJournal.Open(JournalPath, PathLimit.None, null));

            Assert.Equal(NenErrorIds.JournalWriteFailed, ex.ErrorId);
        }

        [Fact]
        public void AJournalHeldByAnotherBatchIsInUse()
        {
            using RunJournal first = RunJournal.Open(JournalPath);

            NenException ex = Assert.Throws<NenException>(() => RunJournal.Open(JournalPath));

            Assert.Equal(NenErrorIds.JournalInUse, ex.ErrorId);
        }

        [Fact]
        public void AJournalPathTooLongForWindowsPowerShellIsRefusedBeforeAnythingIsWritten()
        {
            string deep = Path.Combine(_dir, new string('d', 120), new string('e', 120));
            string journal = Path.Combine(deep, "batch.jsonl");

            NenException ex = Assert.Throws<NenException>(() => RunJournal.Open(journal, PathLimit.MaxPath, null));

            Assert.Equal((NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded), (ex.ErrorId, ex.Category));
            Assert.False(Directory.Exists(deep));
            using RunJournal fine = RunJournal.Open(journal, PathLimit.None, null); // PowerShell 7 takes it
        }
    }
}
