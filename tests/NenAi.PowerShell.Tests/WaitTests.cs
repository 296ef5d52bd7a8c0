using System;
using System.Linq;
using System.Management.Automation;
using NenAi.TestSupport;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>Wait-NenRun: -TimeoutSec, -Any, unknown and failed runs.</summary>
    public class WaitTests : HostedTest
    {
        private PSObject[] Start(string workflow, params string[] names) =>
            Run($"$rows | Start-NenRun -WorkflowId {workflow}", ("rows", CsvRows.Parse("NAME\n" + string.Join("\n", names)))).AssertClean().Output.ToArray();

        [Fact]
        public void AWaitOnAServiceThatCannotBeReachedEndsWithOneErrorWithinTheRetryBudget()
        {
            // Acceptance run: 3 runs against a closed port took 1,145 s (about 260 s a run), with no error until then.
            var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            probe.Start();
            int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop(); // nothing listens there now
            string[] ids = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid().ToString()).ToArray();

            PsResult r = Run("Wait-NenRun -MessageId $ids -BaseUri $down -PollIntervalSec 0.2 -MaximumRetryCount 2", ("ids", ids), ("down", $"http://127.0.0.1:{port}"));

            Assert.Equal("NenNetworkError,NenAi.Commands.WaitNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Empty(r.Errors); // one error for the wait, not one per run
            Assert.Contains("3 not followed to the end", r.Terminating!.Exception.Message);
        }

        [Fact]
        public void StatusesExportedToCsvOrListedCarryNoPresignedLinkYetStillHaveThem()
        {
            // Acceptance run: Wait-NenRun | Export-Csv wrote the Raw JSON, presigned signatures and all.
            PSObject[] runs = Start("$filesWf", "one", "two");
            string csv = System.IO.Path.Combine(TestDrive, "statuses.csv");

            PsResult r = Run(@"
                $statuses = $runs | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60
                $statuses | Export-Csv -LiteralPath $csv -NoTypeInformation
                $statuses | Format-List * | Out-String -Width 300
                @($statuses[0].Results).Count
                $statuses[0].Raw.Length", ("runs", runs), ("csv", csv)).AssertClean();

            string exported = System.IO.File.ReadAllText(csv);
            Assert.DoesNotContain("sig=", exported);
            Assert.DoesNotContain("http", exported);
            Assert.DoesNotContain("Raw", exported.Split('\n')[0]);
            object[] shown = r.BaseOutput.ToArray();
            Assert.DoesNotContain("sig=", (string)shown[0]);
            Assert.True((int)shown[1] >= 1, "the links are still there for Get-NenRunResult and scripts");
            Assert.True((int)shown[2] > 0);
        }

        [Fact]
        public void TimeoutWritesEachUnfinishedRunWithItsCurrentStateAndOneErrorEach()
        {
            PSObject[] runs = Start("$slowWf", "slow 1", "slow 2", "slow 3").Concat(Start("$echo", "quick")).ToArray();

            PsResult r = Run("$runs | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 2", ("runs", runs));

            Assert.Null(r.Terminating);
            Assert.Equal(4, r.Output.Count);
            PSObject quick = Assert.Single(r.Output, s => PsResult.Prop(s, "Status") as string == "success");
            Assert.Equal(false, PsResult.Prop(quick, "TimedOut"));
            var unfinished = r.Output.Where(s => s != quick).ToList();
            Assert.All(unfinished, s => { Assert.Equal("processing", PsResult.Prop(s, "Status")); Assert.Equal(true, PsResult.Prop(s, "TimedOut")); Assert.Equal(false, PsResult.Prop(s, "IsTerminal")); });
            Assert.Equal(3, r.Errors.Count);
            Assert.All(r.Errors, e =>
            {
                Assert.Equal("NenWaitTimeout,NenAi.Commands.WaitNenRunCommand", e.FullyQualifiedErrorId);
                Assert.Equal(ErrorCategory.OperationTimeout, e.CategoryInfo.Category);
                Assert.StartsWith("slow", (string)PsResult.Prop(e.TargetObject, "InputObject.NAME")!);
            });
            Assert.InRange(r.Elapsed, TimeSpan.FromSeconds(1.8), TimeSpan.FromSeconds(30));
        }

        [Fact]
        public void TheDeadlineHoldsInARateLimitStormWithMoreRunsThanTheThrottleLimit()
        {
            // Found in review: runs the throttle limit kept waiting were each given one query past the deadline, and
            // those queries queued behind the storm's Retry-After one after the other (49-101 s for a 2 s deadline).
            PSObject[] runs = Start("$slowWf", Enumerable.Range(1, 12).Select(i => $"slow {i}").ToArray());
            State.Faults.Script(new NenAi.Emulator.ScriptedFault { Kind = "429", Route = "GET /runs", Count = 100_000, RetryAfterSeconds = 4 });

            PsResult r = Run("$runs | Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 2 -ThrottleLimit 2", ("runs", runs));

            Assert.Null(r.Terminating);
            Assert.InRange(r.Elapsed, TimeSpan.FromSeconds(1.8), TimeSpan.FromSeconds(5));
            Assert.Empty(r.Output); // no status was ever read (Retry-After 4 s > the deadline): each run is its error
            Assert.Equal(12, r.Errors.Count);
            Assert.All(r.Errors, e =>
            {
                Assert.Equal("NenWaitTimeout,NenAi.Commands.WaitNenRunCommand", e.FullyQualifiedErrorId);
                Assert.StartsWith("slow", (string)PsResult.Prop(e.TargetObject, "InputObject.NAME")!);
                Assert.Contains("before its status could be read", e.Exception.Message);
            });
            Assert.Empty(r.Warning); // a query cut off at the deadline is the timeout, not a failure "still waiting"
        }

        [Fact]
        public void AnyStopsAtTheFirstRunThatFinishes()
        {
            PSObject[] runs = Start("$slowWf", "slow 1", "slow 2").Concat(Start("$echo", "quick")).ToArray();

            PsResult r = Run("$runs | Wait-NenRun -Any -PollIntervalSec 0.1", ("runs", runs)).AssertClean();

            PSObject first = Assert.Single(r.Output);
            Assert.Equal("success", PsResult.Prop(first, "Status"));
            Assert.Equal("quick", PsResult.Prop(first, "InputObject.InputObject.NAME"));
            Assert.True(Eventually.True(() => State.RequestsInFlight == 0, TimeSpan.FromSeconds(5)));
        }

        [Fact]
        public void ARunTheServerDoesNotKnowIsAnErrorAndTheOthersGoOn()
        {
            string unknown = Guid.NewGuid().ToString();
            PSObject[] runs = Start("$echo", "known");

            PsResult r = Run("@($unknown) + $runs | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("unknown", unknown), ("runs", runs));

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenRunNotFound,NenAi.Commands.WaitNenRunCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
            Assert.Equal(unknown, error.TargetObject is PSObject p ? p.BaseObject : error.TargetObject);
            Assert.Equal("success", PsResult.Prop(Assert.Single(r.Output), "Status"));
        }

        [Fact]
        public void ARunPipedTwiceIsFollowedAndWrittenOnce()
        {
            PSObject run = Start("$echo", "twice").Single();

            PsResult r = Run("$run, $run, $run.MessageId | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("run", run)).AssertClean();

            Assert.Single(r.Output);
        }

        [Fact]
        public void AFailedRunIsWrittenWithItsErrorNotRaised()
        {
            PSObject run = Start("$echo", "FAIL").Single();

            PsResult r = Run("$run | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30", ("run", run)).AssertClean();

            PSObject status = Assert.Single(r.Output);
            Assert.Equal("failed", PsResult.Prop(status, "Status"));
            Assert.Equal(false, PsResult.Prop(status, "Succeeded"));
            Assert.Contains("asked to fail", (string)PsResult.Prop(status, "Error")!);
        }
    }
}
