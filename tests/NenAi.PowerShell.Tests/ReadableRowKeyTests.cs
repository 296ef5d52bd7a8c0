using System.IO;
using System.Linq;
using System.Management.Automation;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Issue 28: every row has a key a person can read, in one form (the -KeyProperty value, else "row 3"), on
    /// Start-NenRun's runs and carried by Wait-NenRun, Get-NenRun (also from a journal) and Get-NenRunResult, the same in
    /// their exports.
    /// </summary>
    public class ReadableRowKeyTests : HostedTest
    {
        [Fact]
        public void WithoutKeyPropertyEveryOutputOfARowCarriesItsRowNumberTheSameWay()
        {
            string csv = Path.Combine(TestDrive, "statuses.csv");
            PsResult r = Run(@"
                $runs = $rows | Start-NenRun -WorkflowId $filesWf -ExcludeProperty JobId
                $statuses = $runs | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60
                $now = $runs | Get-NenRun
                $files = $statuses | Get-NenRunResult -Destination $TestDrive
                $statuses | Export-Csv -LiteralPath $csv -NoTypeInformation
                foreach ($run in $runs) {
                    [pscustomobject]@{
                        Run = $run.RowKey
                        Status = ($statuses | Where-Object MessageId -EQ $run.MessageId).RowKey
                        Now = ($now | Where-Object MessageId -EQ $run.MessageId).RowKey
                        Files = (@($files | Where-Object MessageId -EQ $run.MessageId).RowKey | Sort-Object -Unique) -join '|'
                        Exported = (Import-Csv -LiteralPath $csv | Where-Object MessageId -EQ $run.MessageId).RowKey
                    }
                }",
                ("rows", CsvRows.Parse("JobId,NAME\n9001,Ada\n9002,Grace\n9003,Alan")), ("csv", csv)).AssertClean();

            Assert.Equal(new[] { "row 1", "row 2", "row 3" }, r.Output.Select(o => (string)PsResult.Prop(o, "Run")!).OrderBy(k => k));
            Assert.All(r.Output, o =>
            {
                string key = (string)PsResult.Prop(o, "Run")!;
                Assert.Equal(new[] { key, key, key, key }, new[] { "Status", "Now", "Files", "Exported" }.Select(p => (string?)PsResult.Prop(o, p)));
            });
        }

        [Fact]
        public void TheKeyPropertyValueIsTheRowKeyOfTheRunAndOfItsExportNotTheJournalsForm()
        {
            string csv = Path.Combine(TestDrive, "runs.csv");
            PsResult r = Run(@"
                $rows | Start-NenRun -WorkflowId $echo -KeyProperty JobId -ExcludeProperty JobId -JournalPath (Join-Path $TestDrive 'k.jsonl') | Export-Csv -LiteralPath $csv -NoTypeInformation
                (Import-Csv -LiteralPath $csv).RowKey
                (Get-NenRun -JournalPath (Join-Path $TestDrive 'k.jsonl')).RowKey",
                ("rows", CsvRows.Parse("JobId,NAME\n2001,Ada")), ("csv", csv)).AssertClean();

            Assert.Equal(new object[] { "2001", "2001" }, r.BaseOutput.ToArray());
        }

        [Fact]
        public void AJournalOfRowHashesListsEachRunWithTheRowNumberStartNenRunGaveIt()
        {
            string journal = Path.Combine(TestDrive, "hashes.jsonl");
            PsResult r = Run(@"
                $started = $rows | Start-NenRun -WorkflowId $echo -JournalPath $journal
                $listed = Get-NenRun -JournalPath $journal
                foreach ($run in $started) { $run.RowKey + '=' + ($listed | Where-Object MessageId -EQ $run.MessageId).RowKey }
                ($listed | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 | Sort-Object RowKey).RowKey -join ','",
                ("rows", CsvRows.Parse("NAME\nAda\nGrace\nAlan")), ("journal", journal)).AssertClean();

            Assert.Equal(new object[] { "row 1=row 1", "row 2=row 2", "row 3=row 3", "row 1,row 2,row 3" }, r.BaseOutput.OrderBy(o => o.ToString()!.Length).ThenBy(o => o).ToArray());
        }

        [Fact]
        public void ARunListedFromAJournalKeepsItsRowNumberSoItsMessagesNameTheRightRowEvenForAKeyThatLooksLikeOne()
        {
            // A JobId of "row 9" on row 1: a run known only by its key would be told as "row 9", the wrong line of the CSV.
            string journal = Path.Combine(TestDrive, "lookalike.jsonl");
            PsResult r = Run(@"
                $rows | Start-NenRun -WorkflowId $slowWf -KeyProperty JobId -ExcludeProperty JobId -JournalPath $journal | Out-Null
                $listed = Get-NenRun -JournalPath $journal
                $listed | ForEach-Object { 'RUN {0}={1}' -f $_.RowKey, $_.Row }
                $listed | Wait-NenRun -TimeoutSec 1 -PollIntervalSec 0.2 | Out-Null",
                ("rows", CsvRows.Parse("JobId,NAME\nrow 9,Ada\n2001,Grace")), ("journal", journal));

            Assert.Equal(new object[] { "RUN 2001=2", "RUN row 9=1" }, r.BaseOutput.OrderBy(o => o.ToString()).ToArray());
            Assert.Equal(2, r.Errors.Count);
            Assert.All(r.Errors, e => Assert.StartsWith("NenWaitTimeout,", e.FullyQualifiedErrorId));
            Assert.Contains(r.Errors, e => e.Exception.Message.StartsWith("Row 1 (key row 9): ", System.StringComparison.Ordinal));
            Assert.Contains(r.Errors, e => e.Exception.Message.StartsWith("Row 2 (key 2001): ", System.StringComparison.Ordinal));
        }

        [Fact]
        public void AJournalRowWithoutARunIsAnErrorWhoseTargetCarriesTheRowKeyInItsReadableForm()
        {
            string journal = Path.Combine(TestDrive, "failed.jsonl");
            File.WriteAllLines(journal, new[]
            {
                "{\"batchId\":\"b-1\",\"created\":\"2025-01-02T03:04:05+00:00\"}",
                "{\"key\":\"col:2001\",\"state\":\"Failed\",\"workflowId\":\"" + TestEmulator.EchoWorkflow + "\",\"errorId\":\"NenInvalidWorkflowParams\",\"row\":4,\"at\":\"2025-01-02T03:04:06+00:00\"}",
                "{\"key\":\"sha256:0123456789abcdef0123\",\"state\":\"Failed\",\"workflowId\":\"" + TestEmulator.EchoWorkflow + "\",\"errorId\":\"NenInvalidWorkflowParams\",\"row\":7,\"at\":\"2025-01-02T03:04:07+00:00\"}",
            });
            PsResult r = Run("Get-NenRun -JournalPath $journal", ("journal", journal));

            Assert.Empty(r.Output);
            Assert.Equal(new[] { "2001", "row 7" }, r.Errors.Select(e => (string?)PsResult.Prop(e.TargetObject, "RowKey")).OrderBy(k => k));
        }

        [Fact]
        public void WhatIfNamesEachRowsParametersAndWithVerboseShowsItsBodyWithSecureValuesMasked()
        {
            const string secret = "canary-whatif-secret-2b9";
            PsResult described = Run("$rows | Start-NenRun -WorkflowId $secureWf -KeyProperty JobId -ExcludeProperty JobId -SecureParameter @{ password = $password } -Verbose -WhatIf:$false -ErrorAction SilentlyContinue | Out-Null",
                ("rows", CsvRows.Parse("JobId,USER,TEAM\n1,jane,ops")), ("password", PsSession.Secure(secret)));
            int sent = State.PostRuns;
            PsResult preview = Run("$rows | Start-NenRun -WorkflowId $secureWf -KeyProperty JobId -ExcludeProperty JobId -SecureParameter @{ password = $password } -WhatIf -Verbose -SummaryVariable s; $s.Outcomes.Previewed",
                ("rows", CsvRows.Parse("JobId,USER,TEAM\n1,jane,ops\n2,Zo\u00eb,\u6771\u4eac")), ("password", PsSession.Secure(secret))).AssertClean();

            // The text -WhatIf prints (ShouldProcess's, which -Verbose shows too): the parameters by name.
            Assert.Contains(described.Verbose, v => v.Message.Contains("with 2 parameter(s) (USER, TEAM) and 1 secure parameter(s) (password), row 1 (JobId 1)"));
            Assert.Equal(sent, State.PostRuns);   // the preview sent nothing
            Assert.Equal(new object[] { 2 }, preview.BaseOutput.ToArray());
            Assert.Contains(preview.Verbose, v => v.Message == $"Row 1 (JobId 1) would send POST /runs: {{\"workflow_id\":\"{TestEmulator.SecureWorkflow}\",\"workflow_params\":{{\"USER\":\"jane\",\"TEAM\":\"ops\"}},\"secure_workflow_params\":{{\"password\":\"***\"}}}}");
            Assert.Contains(preview.Verbose, v => v.Message.Contains("\"USER\":\"Zo\\u00eb\",\"TEAM\":\"\\u6771\\u4eac\""));
            Assert.DoesNotContain("canary", preview.AllText() + described.AllText());
        }

        [Fact]
        public void APreviewedRowWhoseBodyCannotBeMadeIsItsErrorNotAPreview()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo -WhatIf -Verbose -SummaryVariable s; $s.Outcomes.Previewed",
                ("rows", new[] { CsvRows.Row(("NAME", "fine")), CsvRows.Row(("NAME", new string('x', 1024 * 1024 + 1))) }));

            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenRequestTooLarge,NenAi.Commands.StartNenRunCommand", error.FullyQualifiedErrorId);
            Assert.StartsWith("Row 2: ", error.Exception.Message);
            Assert.Equal(new object[] { 1 }, r.BaseOutput.ToArray());
            Assert.Equal(0, State.PostRuns);
        }
    }
}
