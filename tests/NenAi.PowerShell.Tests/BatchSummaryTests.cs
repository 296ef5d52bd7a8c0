using System.Collections;
using System.Linq;
using System.Management.Automation;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// -SummaryVariable (issue 18): a NenAi.BatchSummary in the caller's scope, however the command ends, and the same
    /// summary's one line on the Information stream, so a script acts on counts without parsing text.
    /// </summary>
    public class BatchSummaryTests : HostedTest
    {
        private static int Count(PSObject summary, string outcome) => (int)((IDictionary)PsResult.Prop(summary, "Outcomes")!)[outcome]!;

        [Fact]
        public void EachCommandOfThePipelineSumsUpItsPartAndSaysWhetherAnythingWentWrong()
        {
            PsResult r = Run(@"
                $null = $rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id -JournalPath $journal -SummaryVariable started |
                    Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 -SummaryVariable waited |
                    Get-NenRunResult -Destination $TestDrive -SummaryVariable saved -ErrorAction SilentlyContinue
                $started; $waited; $saved",
                ("rows", CsvRows.Parse("Id,NAME,COUNT\n1,fine,1\n2,bad,many\n3,FAIL,3\n4,fine too,4")),
                ("journal", System.IO.Path.Combine(TestDrive, "j.jsonl")));

            Assert.Equal(3, r.Output.Count);
            PSObject started = r.Output[0], waited = r.Output[1], saved = r.Output[2];
            Assert.Equal("NenAi.BatchSummary", started.TypeNames[0]);
            Assert.Equal("Start-NenRun", PsResult.Prop(started, "Command"));
            Assert.Equal((4, 3, 1, 0), (Count(started, "Rows"), Count(started, "Accepted"), Count(started, "Failed"), Count(started, "NotSent")));
            Assert.Equal(1, ((IDictionary)PsResult.Prop(started, "Errors")!)["NenInvalidWorkflowParams"]);
            Assert.Equal(true, PsResult.Prop(started, "HasProblems"));
            Assert.EndsWith("j.jsonl", (string)PsResult.Prop(started, "JournalPath")!);

            Assert.Equal((3, 2, 1), (Count(waited, "Runs"), Count(waited, "Succeeded"), Count(waited, "Failed")));
            Assert.Equal(true, PsResult.Prop(waited, "HasProblems")); // a run that failed is a problem of the batch

            Assert.Equal((3, 1), (Count(saved, "Runs"), Count(saved, "Failed")));
            Assert.True(Count(saved, "Files") >= 2); // the two good runs' files
            Assert.Equal(1, ((IDictionary)PsResult.Prop(saved, "Errors")!)["NenRunFailed"]);

            // One line each on the Information stream, tagged, in transcripts and -InformationAction Continue.
            var lines = r.Information.Where(i => i.Tags.Contains("Summary")).Select(i => i.MessageData.ToString()).ToList();
            Assert.Equal(3, lines.Count);
            Assert.StartsWith("Start-NenRun: 4 rows, 3 accepted, 0 already accepted, 1 failed, 0 unknown, 0 not sent; errors: NenInvalidWorkflowParams 1;", lines[0]);
        }

        [Fact]
        public void ABatchWithNothingWrongHasNoProblems()
        {
            PsResult r = Run("$null = $rows | Start-NenRun -WorkflowId $echo -SummaryVariable s; $s", ("rows", CsvRows.Numbered(3)));

            PSObject summary = Assert.Single(r.Output);
            Assert.Equal(false, PsResult.Prop(summary, "HasProblems"));
            Assert.Equal(0, PsResult.Prop(summary, "ErrorCount"));
            Assert.Equal(3, Count(summary, "Accepted"));
        }

        [Fact]
        public void ACommandEndedByARefusedKeyStillSetsItsSummary()
        {
            PsResult r = Run("try { $rows | Start-NenRun -WorkflowId $echo -ApiKey $wrong -SummaryVariable s } catch { }; $s",
                ("rows", CsvRows.Numbered(20)), ("wrong", PsSession.Secure("not-the-key")));

            PSObject summary = Assert.Single(r.Output);
            Assert.Equal(true, PsResult.Prop(summary, "Stopped"));
            Assert.Equal(true, PsResult.Prop(summary, "HasProblems"));
            Assert.Equal(1, ((IDictionary)PsResult.Prop(summary, "Errors")!)["NenUnauthorized"]);
            Assert.Equal(0, Count(summary, "Accepted"));
        }

        [Fact]
        public void ACommandStoppedAtItsFirstErrorAndOneCutShortDownstreamSetTheirSummaries()
        {
            PsResult stopped = Run("try { $rows | Start-NenRun -WorkflowId $echo -ErrorAction Stop -SummaryVariable s | Out-Null } catch { }; $s",
                ("rows", CsvRows.Parse("NAME,COUNT\na,1\nb,many\nc,3")));
            PsResult firstOnly = Run("$rows | Start-NenRun -WorkflowId $echo -SummaryVariable s | Select-Object -First 1 | Out-Null; $s", ("rows", CsvRows.Numbered(10)));

            Assert.Equal(true, PsResult.Prop(Assert.Single(stopped.Output), "Stopped"));
            PSObject cut = Assert.Single(firstOnly.Output);
            Assert.Equal("Start-NenRun", PsResult.Prop(cut, "Command"));
            Assert.True(Count(cut, "Accepted") >= 1);
        }
    }
}
