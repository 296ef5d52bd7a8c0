using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Day two of the nightly recipe with a row reused under yesterday's key but other values: Start-NenRun writes that
    /// row's NenRowChangedSinceSent error (the row as its target, named by its row and key, never a value), sends
    /// nothing for it, writes no run for it (so yesterday's files are not saved as today's), and counts it as changed
    /// since sent. (Acceptance: "4 rows, 1 accepted, 3 already accepted ... no errors", exit 0, yesterday's files
    /// exported as today's.)
    /// </summary>
    public class ChangedRowTests : HostedTest
    {
        private const string Nightly =
            "$rows | Start-NenRun -WorkflowId $echo -KeyProperty JobId -ExcludeProperty JobId -JournalPath $journal -SummaryVariable started -ErrorVariable +rowErrors | " +
            "Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 | Get-NenRunResult -Destination $TestDrive/nightly";

        private static PSObject[] Jobs(string amount1001) =>
            CsvRows.Parse($"JobId,NAME,AMOUNT\n1001,Ada Lovelace,{amount1001}\n1002,Grace Hopper,75\n1003,Alan Turing,0\n1004,Edsger Dijkstra,10");

        private static int Count(PSObject summary, string outcome) => (int)((IDictionary)PsResult.Prop(summary, "Outcomes")!)[outcome]!;

        [Fact]
        public void DayTwoWithARowsValuesChangedWritesThatRowsErrorAndNoRunForIt()
        {
            string journal = Path.Combine(TestDrive, "jobs.jsonl");
            Run(Nightly, ("rows", Jobs("120.50")), ("journal", journal)).AssertClean();
            int sent = State.PostRuns;

            PsResult r = Run(Nightly + "; $started", ("rows", Jobs("999")), ("journal", journal));

            // Before: no error, "4 rows, 0 accepted, 4 already accepted", and 1001's run (with 120.50) saved as today's.
            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenRowChangedSinceSent,NenAi.Commands.StartNenRunCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
            Assert.Equal("1001", PsResult.Prop((PSObject)error.TargetObject, "JobId"));
            Assert.StartsWith("Row 1 (JobId 1001): The journal records this row (key '1001') as sent on ", error.Exception.Message);
            Assert.DoesNotContain("999", error.Exception.Message);
            Assert.DoesNotContain("120.50", error.Exception.Message);
            Assert.Equal(sent, State.PostRuns);

            PSObject summary = r.Output[^1];
            Assert.Equal((4, 0, 3, 1, 0, 0), (Count(summary, "Rows"), Count(summary, "Accepted"), Count(summary, "AlreadyAccepted"), Count(summary, "ChangedSinceSent"), Count(summary, "Failed"), Count(summary, "NotSent")));
            Assert.Equal(true, PsResult.Prop(summary, "HasProblems"));
            Assert.Contains("0 accepted, 3 already accepted, 1 changed since sent, 0 failed", summary.ToString());

            // The files saved today are those of the three rows that are what was sent: none is 1001's.
            var files = r.Output.Take(r.Output.Count - 1).ToList();
            Assert.NotEmpty(files);
            Assert.Equal(new[] { "1002", "1003", "1004" }, files.Select(f => (string)PsResult.Prop(f, "RowKey")!).Distinct().OrderBy(k => k));
        }

        [Fact]
        public void TheSameInputAgainIsAlreadyAcceptedWithNoErrorAndNoChangedOutcome()
        {
            string journal = Path.Combine(TestDrive, "jobs.jsonl");
            Run(Nightly, ("rows", Jobs("120.50")), ("journal", journal)).AssertClean();

            PsResult again = Run(Nightly + "; $started", ("rows", Jobs("120.50")), ("journal", journal)).AssertClean();

            PSObject summary = again.Output[^1];
            Assert.Equal((4, 4), (Count(summary, "Rows"), Count(summary, "AlreadyAccepted")));
            Assert.Null(((IDictionary)PsResult.Prop(summary, "Outcomes")!)["ChangedSinceSent"]);
            Assert.Equal(false, PsResult.Prop(summary, "HasProblems"));
        }

        [Fact]
        public void ARerunWithAnotherParameterValueIsAlreadyAcceptedNotChanged()
        {
            // -Parameter @{ RunDate = (Get-Date) } gives every re-run another value: the command's, not the rows'.
            string journal = Path.Combine(TestDrive, "jobs.jsonl");
            string dated = Nightly.Replace("-JournalPath $journal", "-JournalPath $journal -Parameter @{ RunDate = $date }");
            Run(dated, ("rows", Jobs("120.50")), ("journal", journal), ("date", "2026-12-06T23:55:00")).AssertClean();

            PsResult again = Run(dated + "; $started", ("rows", Jobs("120.50")), ("journal", journal), ("date", "2026-12-07T00:05:00")).AssertClean();

            PSObject summary = again.Output[^1];
            Assert.Equal((4, 4), (Count(summary, "Rows"), Count(summary, "AlreadyAccepted")));
            Assert.Equal(false, PsResult.Prop(summary, "HasProblems"));
        }
    }
}
