using System.IO;
using System.Linq;
using System.Management.Automation;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// The disks a scheduled task meets, for real (a tmpfs of the test's own): each failure is the error about_NenAi
    /// documents for it, with nothing sent that should not be.
    /// </summary>
    public class DiskFailureTests : HostedTest
    {
        private const string Batch = "$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id -JournalPath $journal";

        [TmpfsFact]
        public void AJournalOnAReadOnlyDiskStopsTheBatchAsAWriteFailureBeforeAnythingIsSent()
        {
            using TmpfsMount readOnly = TmpfsMount.Create(sizeKiB: 64, readOnly: true);

            PsResult r = Run(Batch, ("rows", CsvRows.Numbered(3)), ("journal", Path.Combine(readOnly.Path, "nightly.jsonl")));

            // Before: NenJournalInUse, "in use by another batch".
            Assert.Equal("NenJournalWriteFailed,NenAi.Commands.StartNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.WriteError, r.Terminating!.CategoryInfo.Category);
            Assert.Equal(0, State.PostRuns);
        }

        [TmpfsFact]
        public void AJournalOnAFullDiskStopsTheBatchAsAWriteFailureBeforeAnythingIsSent()
        {
            using TmpfsMount disk = TmpfsMount.Create(sizeKiB: 32);
            disk.Fill();

            PsResult r = Run(Batch, ("rows", CsvRows.Numbered(3)), ("journal", Path.Combine(disk.Path, "nightly.jsonl")));

            // Before: System.IO.IOException,NenAi.Commands.StartNenRunCommand.
            Assert.Equal("NenJournalWriteFailed,NenAi.Commands.StartNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(0, State.PostRuns);
        }

        [TmpfsFact]
        public void AFullDiskDuringADownloadIsOneWriteErrorForThatFileAndIsNotRetried()
        {
            // Room for assets.zip (about 300 KB) and report.txt, not for data.bin (300,000 bytes) as well.
            using TmpfsMount disk = TmpfsMount.Create(sizeKiB: 420);
            PSObject status = Run("$rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("rows", CsvRows.Numbered(1))).AssertClean().Output.Single();
            int before = State.Downloads;

            // One file at a time, so which file the disk has no room for is known (downloaded at once, any could fill it).
            PsResult r = Run("$status | Get-NenRunResult -Destination $destination -ThrottleLimit 1", ("status", status), ("destination", disk.Path));

            // The part of data.bin kept for a resume fills the disk: one error that stops the command, naming the full
            // disk (changed deliberately: before, data.bin's own NenDownloadFailed, and one more for every later file).
            ErrorRecord error = Assert.Single(r.AllErrors);
            Assert.Equal("NenDestinationNotWritable,NenAi.Commands.GetNenRunResultCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.WriteError, error.CategoryInfo.Category);
            Assert.Equal(disk.Path, error.TargetObject);
            Assert.Contains("disk is full", error.Exception.Message);
            // data.bin is asked for once (before: 6 times, each failure taken for a network interruption).
            Assert.Equal(2, r.Output.Count);
            Assert.Equal(3, State.Downloads - before);
        }
    }
}
