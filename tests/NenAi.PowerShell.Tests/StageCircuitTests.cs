using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Issue 25 through the cmdlets: what Start-NenRun's circuit knows also governs Wait-NenRun, Get-NenRun and
    /// Get-NenRunResult (one error for the stage, a bounded number of requests, every run or file accounted for under
    /// what is known, never "failed" unless the service said so), and Get-NenRunResult downloads at once.
    /// </summary>
    public class StageCircuitTests : HostedTest
    {
        private readonly ITestOutputHelper _output;

        public StageCircuitTests(ITestOutputHelper output) => _output = output;

        private PSObject[] Started(string workflow, int count) =>
            Run($"$rows | Start-NenRun -WorkflowId {workflow}", ("rows", CsvRows.Numbered(count))).AssertClean().Output.ToArray();

        private PSObject[] Finished(int count) =>
            Run("$rows | Start-NenRun -WorkflowId $echo | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60", ("rows", CsvRows.Numbered(count))).AssertClean().Output.ToArray();

        /// <summary>The command in a try/catch, then its summary and the error that ended it (the script itself ends normally).</summary>
        private (PsResult Result, PSObject Summary, ErrorRecord? Stop) Caught(string command, params (string, object?)[] variables)
        {
            PsResult r = Run($"$caught = $null; try {{ {command} -SummaryVariable s -ErrorVariable +rowErrors | Out-Null }} catch {{ $caught = $_ }}; $s; $caught; @($rowErrors).Count", variables);
            Assert.Null(r.Terminating);
            PSObject summary = r.Output[0];
            ErrorRecord? stop = r.Output.Count > 2 ? r.Output[1].BaseObject as ErrorRecord : null;
            return (r, summary, stop);
        }

        private static int Count(PSObject summary, string outcome) => (int)((IDictionary)PsResult.Prop(summary, "Outcomes")!)[outcome]!;

        private static int Errors(PsResult r) => (int)r.Output[^1].BaseObject;

        [Fact]
        public void AStatusOutageEndsWaitNenRunWithOneErrorWithinABoundedNumberOfGetsAndNoRunCountedFailed()
        {
            // Acceptance: 20 runs, every GET /runs/{id} a 500: 720 GETs, 20 errors, 95 s, and a summary of "20 failed".
            PSObject[] runs = Started("$slowWf", 20);
            State.Faults.Replace(new FaultSettings { Rate500 = 1, ApplyTo = "get" });
            int before = State.GetRuns;

            var (r, summary, stop) = Caught("$runs | Wait-NenRun -PollIntervalSec 1", ("runs", runs));
            int gets = State.GetRuns - before;

            _output.WriteLine($"status outage, Wait-NenRun: {gets} GETs, {r.Elapsed.TotalSeconds:0.0} s, {PsResult.Prop(summary, "ErrorCount")} error(s): {stop?.Exception.Message}");
            Assert.Equal("NenServerError,NenAi.Commands.WaitNenRunCommand", stop?.FullyQualifiedErrorId);
            Assert.Equal(1, Errors(r)); // the one that ended it: no error per run
            Assert.InRange(gets, 1, 60); // runs that join after the first failure wait for a probe: fewer still
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(45), $"gave up after {r.Elapsed.TotalSeconds:0.0} s");
            Assert.Equal((20, 0, 0, 0, 0, 20), (Count(summary, "Runs"), Count(summary, "Succeeded"), Count(summary, "Failed"), Count(summary, "TimedOut"), Count(summary, "StatusUnknown"), Count(summary, "NotFollowed")));
            Assert.Equal(true, PsResult.Prop(summary, "Stopped"));
            Assert.Contains("20 not followed to the end (their status is unknown)", stop!.Exception.Message);
            Assert.Contains("0 succeeded and 0 failed (written)", stop.Exception.Message);
        }

        [Fact]
        public void ARefusedKeyEndsWaitNenRunWithASummaryThatCountsEachRunOnce()
        {
            // Acceptance: "5 runs ... 10 not followed".
            PSObject[] runs = Started("$slowWf", 5);

            var (r, summary, stop) = Caught("$runs | Wait-NenRun -ApiKey $wrong -PollIntervalSec 0.1", ("runs", runs), ("wrong", PsSession.Secure("not-the-key")));

            Assert.Equal("NenUnauthorized,NenAi.Commands.WaitNenRunCommand", stop?.FullyQualifiedErrorId);
            Assert.Equal(1, Errors(r));
            Assert.Equal((5, 5), (Count(summary, "Runs"), Count(summary, "NotFollowed")));
            Assert.Equal(0, Count(summary, "Failed"));
            Assert.Contains("Of 5 run(s)", stop!.Exception.Message);
            Assert.Contains("5 not followed", stop.Exception.Message);
            Assert.StartsWith("Wait-NenRun: 5 runs, 0 succeeded, 0 failed, 0 timed out, 0 status unknown, 5 not followed;", summary.ToString());
        }

        [Fact]
        public void AStatusOutageEndsGetNenRunWithOneErrorAndEveryRunAccountedFor()
        {
            string[] ids = Started("$slowWf", 20).Select(o => (string)PsResult.Prop(o, "MessageId")!).ToArray();
            State.Faults.Replace(new FaultSettings { Rate500 = 1, ApplyTo = "get" });
            int before = State.GetRuns;

            var (r, summary, stop) = Caught("$ids | Get-NenRun", ("ids", ids));
            int gets = State.GetRuns - before;

            _output.WriteLine($"status outage, Get-NenRun: {gets} GETs, {r.Elapsed.TotalSeconds:0.0} s: {stop?.Exception.Message}");
            Assert.Equal("NenServerError,NenAi.Commands.GetNenRunCommand", stop?.FullyQualifiedErrorId);
            Assert.Equal(1, Errors(r));
            Assert.InRange(gets, 1, 60);
            // The runs read before the stop (the others were never read: the error ended the pipeline), each once.
            int runs = Count(summary, "Runs");
            Assert.InRange(runs, 16, 20);
            Assert.Equal((0, runs), (Count(summary, "Answered"), Count(summary, "StatusUnknown")));
            Assert.Null(((IDictionary)PsResult.Prop(summary, "Outcomes")!)["Failed"]);
            Assert.Contains($"Of {runs} run(s): 0 answered and written, 0 not found, {runs} without an answer (status unknown); runs after these were not read", stop!.Exception.Message);
            // Found here: the summary of runs asked about named an empty journal ("...; journal ; stopped early").
            Assert.Null(PsResult.Prop(summary, "JournalPath"));
            Assert.DoesNotContain("journal", summary.ToString());
        }

        [Fact]
        public void StalledStorageEndsGetNenRunResultWithOneErrorAndTheSameCommandLaterSavesEveryFile()
        {
            // Acceptance: storage that stalls every file held 10 downloads for 237 s at -RequestTimeoutSec 2.
            PSObject[] statuses = Finished(10); // one file each (assets.zip): 10 downloads
            State.Faults.Script(new ScriptedFault { Kind = "stall-download", Route = "GET /files", Count = 1_000_000 });
            string destination = Path.Combine(TestDrive, "out");

            var (r, summary, stop) = Caught("$statuses | Get-NenRunResult -Destination $destination -RequestTimeoutSec 2", ("statuses", statuses), ("destination", destination));

            _output.WriteLine($"stalled storage: {State.Downloads} downloads, {r.Elapsed.TotalSeconds:0.0} s: {stop?.Exception.Message}");
            Assert.Equal("NenTimeout,NenAi.Commands.GetNenRunResultCommand", stop?.FullyQualifiedErrorId);
            Assert.Equal(1, Errors(r));
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(40), $"took {r.Elapsed.TotalSeconds:0.0} s");
            Assert.Equal((10, 0, 0, 10), (Count(summary, "Runs"), Count(summary, "Files"), Count(summary, "Failed"), Count(summary, "NotDownloaded")));
            Assert.Contains("10 not downloaded", stop!.Exception.Message);

            State.Faults.Clear();
            PsResult again = Run("$statuses | Get-NenRunResult -Destination $destination", ("statuses", statuses), ("destination", destination)).AssertClean();
            Assert.Equal(10, again.Output.Count);
            Assert.All(again.Output, f => Assert.True(File.Exists((string)PsResult.Prop(f, "FullName")!)));
        }

        [Fact]
        public void RunsDownloadAtOnceAndEachRunsFilesAreWrittenTogetherInTheRunsOrder()
        {
            PSObject[] statuses = Run("$rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60", ("rows", CsvRows.Numbered(4))).AssertClean().Output.ToArray();
            State.Faults.Replace(new FaultSettings { LatencyMs = 200 });
            string[] order = statuses.Select(s => (string)PsResult.Prop(s, "MessageId")!).ToArray();

            PsResult parallel = Run("$statuses | Get-NenRunResult -Destination $TestDrive/a -ThrottleLimit 4", ("statuses", statuses)).AssertClean();
            PsResult oneAtATime = Run("$statuses | Get-NenRunResult -Destination $TestDrive/b -ThrottleLimit 1", ("statuses", statuses)).AssertClean();

            _output.WriteLine($"12 files at 200 ms: {parallel.Elapsed.TotalSeconds:0.0} s at -ThrottleLimit 4, {oneAtATime.Elapsed.TotalSeconds:0.0} s at 1");
            foreach (PsResult r in new[] { parallel, oneAtATime })
            {
                Assert.Equal(12, r.Output.Count);
                // Run by run, each run's files together and in the order the run lists them.
                var runs = r.Output.Select((f, i) => (Id: (string)PsResult.Prop(f, "MessageId")!, Name: (string)PsResult.Prop(f, "Name")!, i)).ToList();
                foreach (var group in runs.GroupBy(f => f.Id))
                {
                    Assert.Equal(new[] { "assets.zip", "report.txt", "data.bin" }, group.Select(f => f.Name));
                    Assert.Equal(group.First().i + 2, group.Last().i);
                }
            }
            Assert.Equal(order, oneAtATime.Output.Select(f => (string)PsResult.Prop(f, "MessageId")!).Distinct()); // the input's order
        }
    }
}
