using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Get-NenRunResult with a -Destination no run's files can be written to (read-only, access denied, a folder name
    /// too long): one error that stops the command and names the destination, as the storage-outage stop and the
    /// -Destination-is-a-file stop do, with every run counted NotDownloaded and nothing downloaded. (Acceptance: 300
    /// runs gave 300 NenDownloadFailed errors and "300 runs, 0 files, 300 failed".)
    /// </summary>
    public class UnwritableDestinationTests : HostedTest
    {
        private readonly ITestOutputHelper _output;

        public UnwritableDestinationTests(ITestOutputHelper output) => _output = output;

        private PSObject[] Finished(int count) =>
            Run("$rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60", ("rows", CsvRows.Numbered(count))).AssertClean().Output.ToArray();

        /// <summary>The command in a try/catch, then its summary and the error that ended it (the script itself ends normally).</summary>
        private (PsResult Result, PSObject Summary, ErrorRecord? Stop, int Errors) Caught(string command, params (string, object?)[] variables)
        {
            PsResult r = Run($"$caught = $null; try {{ {command} -SummaryVariable s -ErrorVariable +rowErrors | Out-Null }} catch {{ $caught = $_ }}; $s; $caught; @($rowErrors).Count", variables);
            Assert.Null(r.Terminating);
            ErrorRecord? stop = r.Output.Count > 2 ? r.Output[1].BaseObject as ErrorRecord : null;
            return (r, r.Output[0], stop, (int)r.Output[^1].BaseObject);
        }

        private static int Count(PSObject summary, string outcome) => (int)((IDictionary)PsResult.Prop(summary, "Outcomes")!)[outcome]!;

        /// <summary>One error that stopped the command, naming the destination; every run read is not downloaded, none failed.</summary>
        private ErrorRecord AssertOneStop((PsResult Result, PSObject Summary, ErrorRecord? Stop, int Errors) c, string destination, string id, ErrorCategory category, int downloadsBefore)
        {
            _output.WriteLine($"{c.Summary}: {c.Stop?.Exception.Message}");
            Assert.Equal($"{id},NenAi.Commands.GetNenRunResultCommand", c.Stop?.FullyQualifiedErrorId);
            Assert.Equal(category, c.Stop!.CategoryInfo.Category);
            Assert.Equal(destination, c.Stop.TargetObject);
            Assert.Equal(1, c.Errors); // before: one per run
            int runs = Count(c.Summary, "Runs");
            Assert.True(runs >= 1);
            Assert.Equal((0, 0, runs), (Count(c.Summary, "Files"), Count(c.Summary, "Failed"), Count(c.Summary, "NotDownloaded")));
            Assert.Equal(true, PsResult.Prop(c.Summary, "Stopped"));
            // A path longer than 120 characters is shown shortened in the middle.
            Assert.Contains($"-Destination '{(destination.Length <= 120 ? destination + "'" : destination.Substring(0, 58) + "...")}", c.Stop.Exception.Message);
            Assert.Contains($"Of {runs} run(s): 0 file(s) saved, 0 failed, {runs} not downloaded", c.Stop.Exception.Message);
            Assert.Equal(downloadsBefore, State.Downloads);
            return c.Stop;
        }

        [TmpfsFact]
        public void RunsPipedToAReadOnlyDestinationEndWithOneWriteErrorAndEveryRunNotDownloaded()
        {
            using TmpfsMount readOnly = TmpfsMount.Create(sizeKiB: 64, readOnly: true);
            PSObject[] statuses = Finished(12);
            int downloads = State.Downloads;

            var caught = Caught("$statuses | Get-NenRunResult -Destination $destination", ("statuses", statuses), ("destination", readOnly.Path));

            ErrorRecord stop = AssertOneStop(caught, readOnly.Path, "NenDestinationNotWritable", ErrorCategory.WriteError, downloads);
            Assert.Contains("read-only file system", stop.Exception.Message);
        }

        [TmpfsFact]
        public void RunsGivenByIdToAReadOnlyDestinationAreLookedUpNoMoreThanTheRunsInFlight()
        {
            // Bare ids are looked up first: the runs already under way when the destination's refusal is known, no more.
            using TmpfsMount readOnly = TmpfsMount.Create(sizeKiB: 64, readOnly: true);
            string[] ids = Finished(40).Select(s => (string)PsResult.Prop(s, "MessageId")!).ToArray();
            int downloads = State.Downloads, gets = State.GetRuns;
            string destination = Path.Combine(readOnly.Path, "out");

            var caught = Caught("Get-NenRunResult -MessageId $ids -Destination $destination -ThrottleLimit 4", ("ids", ids), ("destination", destination));

            AssertOneStop(caught, destination, "NenDestinationNotWritable", ErrorCategory.WriteError, downloads);
            Assert.InRange(State.GetRuns - gets, 1, 8); // at most twice -ThrottleLimit runs are held: before, 40 GETs and 40 errors
        }

        [DeniedFolderFact]
        public void ADestinationThisAccountMayNotWriteToEndsWithOnePermissionDenied()
        {
            using DeniedFolder denied = DeniedFolder.Create();
            PSObject[] statuses = Finished(5);
            int downloads = State.Downloads;

            var caught = Caught("$statuses | Get-NenRunResult -Destination $destination", ("statuses", statuses), ("destination", denied.Path));

            ErrorRecord stop = AssertOneStop(caught, denied.Path, "NenDestinationNotWritable", ErrorCategory.PermissionDenied, downloads);
            Assert.Contains("may not create folders in it", stop.Exception.Message);
        }

        [Fact]
        public void ADestinationWhoseFolderNameIsTooLongEndsWithOneNenPathTooLong()
        {
            string destination = Path.Combine(TestDrive, new string('d', 300));
            PSObject[] statuses = Finished(5);
            int downloads = State.Downloads;

            var caught = Caught("$statuses | Get-NenRunResult -Destination $destination", ("statuses", statuses), ("destination", destination));

            AssertOneStop(caught, destination, "NenPathTooLong", ErrorCategory.LimitsExceeded, downloads);
            Assert.Empty(Directory.GetFileSystemEntries(TestDrive));
        }

        [TmpfsFact]
        public void WithErrorActionStopTheDestinationsErrorIsStillTheOneThatEndsTheCommand()
        {
            using TmpfsMount readOnly = TmpfsMount.Create(sizeKiB: 64, readOnly: true);
            PSObject[] statuses = Finished(6);
            int downloads = State.Downloads;

            var caught = Caught("$statuses | Get-NenRunResult -Destination $destination -ErrorAction Stop", ("statuses", statuses), ("destination", readOnly.Path));

            AssertOneStop(caught, readOnly.Path, "NenDestinationNotWritable", ErrorCategory.WriteError, downloads);
        }
    }
}
