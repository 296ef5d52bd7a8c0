using System.Linq;
using System.Management.Automation;
using System.Text;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Every row-level message names its row (issue 18): the -KeyProperty value, else the row's number in the input,
    /// in errors, warnings, -WhatIf and -Verbose lines, and downstream in the errors of the runs those rows started.
    /// </summary>
    public class RowNamingTests : HostedTest
    {
        /// <summary>500 rows as Import-Csv reads them (the real ConvertFrom-Csv); rows 37, 250 and 499 have a COUNT that is not a number.</summary>
        private static PSObject[] FiveHundredRows()
        {
            var csv = new StringBuilder("JobId,NAME,COUNT\n");
            for (int i = 1; i <= 500; i++) csv.Append($"J{1000 + i},row {i},{(i is 37 or 250 or 499 ? "many" : i.ToString())}\n");
            return CsvRows.Parse(csv.ToString());
        }

        [Fact]
        public void ThreeBadRowsOfFiveHundredAreThreeErrorsThatNameTheirJobIdAndRowNumber()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo -KeyProperty JobId -ExcludeProperty JobId -ThrottleLimit 16", ("rows", FiveHundredRows()));

            Assert.Null(r.Terminating);
            Assert.Equal(497, r.Output.Count);
            Assert.Equal(new[] { "Row 37 (JobId J1037): ", "Row 250 (JobId J1250): ", "Row 499 (JobId J1499): " },
                r.Errors.Select(e => e.Exception.Message.Substring(0, e.Exception.Message.IndexOf(": ") + 2)).OrderBy(m => int.Parse(m.Split(' ')[1])));
            Assert.All(r.Errors, e => Assert.Contains("COUNT", e.Exception.Message)); // the service's own reason follows
            Assert.All(r.Errors, e => Assert.Equal("many", PsResult.Prop((PSObject)e.TargetObject, "COUNT"))); // the row stays the target
            // What PowerShell prints is the same message.
            Assert.All(r.Errors, e => Assert.StartsWith("Row ", e.ToString()));
        }

        [Fact]
        public void WithoutAKeyPropertyTheMessagesNameTheRowNumbers()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo -ExcludeProperty JobId -ThrottleLimit 16", ("rows", FiveHundredRows()));

            Assert.Equal(new[] { 37, 250, 499 }, r.Errors.Select(e => int.Parse(e.Exception.Message.Split(':')[0].Replace("Row ", string.Empty))).OrderBy(n => n));
        }

        [Fact]
        public void ShouldProcessAndVerboseRequestLinesNameTheRow()
        {
            PsResult keyed = Run("$rows | Start-NenRun -WorkflowId $echo -KeyProperty JobId -ExcludeProperty JobId -Verbose", ("rows", CsvRows.Parse("JobId,NAME\nA-1,first\nA-2,second")));
            PsResult numbered = Run("$rows | Start-NenRun -WorkflowId $echo -ExcludeProperty JobId -Verbose", ("rows", CsvRows.Parse("JobId,NAME\nA-1,first\nA-2,second")));

            // ShouldProcess's text: what -WhatIf prints, and -Verbose shows for the operation it performs.
            Assert.Contains(keyed.Verbose, v => v.Message.Contains("Start Nen run") && v.Message.Contains("row 2 (JobId A-2)"));
            Assert.Contains(numbered.Verbose, v => v.Message.Contains("Start Nen run") && v.Message.Contains(", row 2"));
            // Each request's -Verbose line.
            Assert.Contains(keyed.Verbose, v => v.Message.StartsWith("POST ") && v.Message.Contains("(row 1 (JobId A-1))") && v.Message.Contains("-> 202"));
            Assert.Contains(numbered.Verbose, v => v.Message.StartsWith("POST ") && v.Message.Contains("(row 2)") && v.Message.Contains("-> 202"));
        }

        [Fact]
        public void AFailedRunsErrorDownstreamNamesTheRowThatStartedIt()
        {
            PsResult r = Run(@"
                $rows | Start-NenRun -WorkflowId $echo -KeyProperty JobId -ExcludeProperty JobId |
                    Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 |
                    Get-NenRunResult -Destination $TestDrive", ("rows", CsvRows.Parse("JobId,NAME\nA-1,fine\nA-2,FAIL\nA-3,fine too")));

            ErrorRecord failed = Assert.Single(r.Errors);
            Assert.Equal("NenRunFailed,NenAi.Commands.GetNenRunResultCommand", failed.FullyQualifiedErrorId);
            Assert.StartsWith("Row 2 (JobId A-2): Run ", failed.Exception.Message);
            Assert.Contains("asked to fail", failed.Exception.Message);
        }

        [Fact]
        public void TheWarningsOfRunsEndedBeforeAnErrorStopsAWaitNameTheirRows()
        {
            // -ErrorAction Stop: the first run's timeout ends Wait-NenRun, and the others that ended meanwhile are warnings.
            // They said "Run <id>: Run <id> had not finished ...", naming no row. (The runs join the wait at once, as one
            // input of three, and time out together while the next command's input is still on its way. Sent as three inputs,
            // a loaded machine joined them far enough apart that the first timeout stopped the wait before the others' deadlines.)
            PsResult r = Run(@"
                $runs = @($rows | Start-NenRun -WorkflowId $slowWf -KeyProperty JobId -ExcludeProperty JobId)
                & { ,$runs; Start-Sleep -Seconds 3; 'not-a-run-anyway' } | Wait-NenRun -PollIntervalSec 30 -TimeoutSec 1 -ErrorAction Stop",
                ("rows", CsvRows.Parse("JobId,NAME\nW-1,a\nW-2,b\nW-3,c")));

            Assert.Equal("NenWaitTimeout,NenAi.Commands.WaitNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(2, r.Warning.Count);
            Assert.All(r.Warning, w => Assert.Matches(@"^Row [123] \(JobId W-[123]\): Run \S+ had not finished", w.Message));
        }

        [Fact]
        public void ARunGivenByMessageIdIsNamedByIt()
        {
            string id = System.Guid.NewGuid().ToString();
            PsResult r = Run("Get-NenRun -MessageId $id", ("id", id));

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.StartsWith("NenRunNotFound", error.FullyQualifiedErrorId);
            Assert.Contains(id, error.Exception.Message);
            Assert.DoesNotContain("Row ", error.Exception.Message);
        }
    }
}
