using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>Get-NenRunResult: failed runs, re-runs, -Expand, unsafe archives.</summary>
    public class ResultTests : HostedTest
    {
        protected override void Configure(EmulatorConfig config)
        {
            WorkflowConfig echo = config.Workflows.Single(w => w.Id == TestEmulator.EchoWorkflow);
            echo.Files.Add(new FileSpec { Name = "report.txt", Content = "report for {message_id}: {params}", ContentType = "text/plain" });
        }

        private PSObject[] Finished(params string[] names) =>
            Run("$rows | Start-NenRun -WorkflowId $echo | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("rows", CsvRows.Parse("NAME\n" + string.Join("\n", names))))
                .AssertClean().Output.ToArray();

        [Fact]
        public void AFailedRunIsAnErrorWithTheWorkflowsMessageAndTheOthersAreSaved()
        {
            PSObject[] statuses = Finished("FAIL", "fine");

            PsResult r = Run("$statuses | Get-NenRunResult -Destination $TestDrive", ("statuses", statuses));

            Assert.Equal(2, r.Output.Count); // assets.zip and report.txt of the good run
            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenRunFailed,NenAi.Commands.GetNenRunResultCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidResult, error.CategoryInfo.Category);
            Assert.Contains("asked to fail", error.Exception.Message);
            Assert.Equal("FAIL", PsResult.Prop(error.TargetObject, "InputObject.InputObject.NAME"));
        }

        [Fact]
        public void ASecondCallSkipsCompleteFilesAndExpandUnpacksTheArchive()
        {
            PSObject status = Finished("twice").Single();
            string id = (string)PsResult.Prop(status, "MessageId")!;
            Run("$status | Get-NenRunResult -Destination $TestDrive", ("status", status)).AssertClean();
            int downloads = State.Downloads;

            PsResult again = Run("$status | Get-NenRunResult -Destination $TestDrive -Expand", ("status", status)).AssertClean();

            Assert.Equal(downloads, State.Downloads);
            Assert.All(again.Output.Where(f => !(bool)PsResult.Prop(f, "Expanded")!), f => Assert.Equal(true, PsResult.Prop(f, "Skipped")));
            Assert.Contains(again.Output, f => (bool)PsResult.Prop(f, "Expanded")! && PsResult.Prop(f, "Name") as string == "result.json");
            Assert.True(File.Exists(Path.Combine(TestDrive, id, "assets", "result.json")));
            Assert.True(File.Exists(Path.Combine(TestDrive, id, "assets", "report.txt")));
        }

        [Fact]
        public void ForceDownloadsAgain()
        {
            PSObject status = Finished("forced").Single();
            Run("$status | Get-NenRunResult -Destination $TestDrive", ("status", status)).AssertClean();
            int downloads = State.Downloads;

            PsResult r = Run("$status | Get-NenRunResult -Destination $TestDrive -Force", ("status", status)).AssertClean();

            Assert.Equal(downloads + 2, State.Downloads);
            Assert.All(r.Output, f => Assert.Equal(false, PsResult.Prop(f, "Skipped")));
        }

        [Fact]
        public void AnUnfinishedRunIsAnErrorThatSaysToWait()
        {
            string id = Run("$rows | Start-NenRun -WorkflowId $slowWf", ("rows", CsvRows.Parse("NAME\nslow"))).AssertClean().Strings("MessageId").Single()!;

            PsResult r = Run("$id | Get-NenRunResult -Destination $TestDrive", ("id", id));

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenRunNotComplete,NenAi.Commands.GetNenRunResultCommand", error.FullyQualifiedErrorId);
            Assert.Contains("Wait-NenRun", error.Exception.Message);
            Assert.Empty(r.Output);
        }

        [Fact]
        public void TheCurrentFolderIsTheDefaultDestination()
        {
            PSObject status = Finished("here").Single();

            PsResult r = Run("$ExecutionContext.SessionState.Path.SetLocation($TestDrive) | Out-Null; $status | Get-NenRunResult", ("status", status)).AssertClean();

            Assert.All(r.Output, f => Assert.StartsWith(TestDrive, (string)PsResult.Prop(f, "FullName")!));
        }
    }

    /// <summary>An archive that tries to write outside its folder is refused as a whole.</summary>
    public class UnsafeArchiveTests : HostedTest
    {
        protected override void Configure(EmulatorConfig config) =>
            config.Workflows.Single(w => w.Id == TestEmulator.EchoWorkflow).ZipEntries.Add(new FileSpec { Name = "../escaped.txt", Content = "zip slip" });

        [Fact]
        public void AZipSlipEntryIsRefusedAndNothingIsUnpacked()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30 | Get-NenRunResult -Destination $TestDrive -Expand",
                ("rows", CsvRows.Parse("NAME\nslip")));

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenUnsafeZipEntry,NenAi.Commands.GetNenRunResultCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.SecurityError, error.CategoryInfo.Category);
            Assert.False(File.Exists(Path.Combine(TestDrive, "escaped.txt")));
            Assert.Empty(Directory.GetFiles(TestDrive, "escaped.txt", SearchOption.AllDirectories));
        }
    }

    /// <summary>-ThrottleLimit 1 writes the runs in the order they came (its help says so), archives unpacked or not.</summary>
    public class OneRequestAtATimeResultTests : HostedTest
    {
        // The files workflow's archive holds 1,000 entries more: unpacking it takes a moment after its download is done.
        protected override void Configure(EmulatorConfig config)
        {
            WorkflowConfig files = config.Workflows.Single(w => w.Id == TestEmulator.FilesWorkflow);
            for (int i = 0; i < 1000; i++) files.ZipEntries.Add(new FileSpec { Name = $"entry{i:0000}.txt", Content = "x" });
        }

        [Fact]
        public void ARunStillUnpackingItsArchiveIsWrittenBeforeTheRunAfterIt()
        {
            PSObject big = Run("$rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("rows", CsvRows.Parse("NAME\nbig"))).AssertClean().Output.Single();
            PSObject small = Run("$rows | Start-NenRun -WorkflowId $echo | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("rows", CsvRows.Parse("NAME\nsmall"))).AssertClean().Output.Single();
            string bigRun = (string)PsResult.Prop(big, "MessageId")!;

            // The small run's one archive downloads while the big run's is still being unpacked, and is done first.
            PsResult r = Run("$big, $small | Get-NenRunResult -Destination $TestDrive -ThrottleLimit 1 -Expand", ("big", big), ("small", small)).AssertClean();

            string[] runs = r.Output.Select(f => (string)PsResult.Prop(f, "MessageId")!).ToArray();
            int firstOfSmall = Array.FindIndex(runs, id => id != bigRun);
            Assert.True(firstOfSmall > 1000, $"the run that came second was written from output {firstOfSmall} of {runs.Length}");
            Assert.All(runs.Skip(firstOfSmall), id => Assert.NotEqual(bigRun, id));
        }
    }
}
