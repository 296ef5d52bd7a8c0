using System;
using System.Linq;
using System.Management.Automation;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// The default tables of NenAi.Run, NenAi.RunStatus and NenAi.ResultFile at 80 columns: every status in full, the
    /// row key on every line, nothing wider than the console.
    /// </summary>
    public class FormatViewTests : HostedTest
    {
        protected override void Configure(EmulatorConfig config)
        {
            WorkflowConfig echo = config.Workflows.Single(w => w.Id == TestEmulator.EchoWorkflow);
            echo.Files.Add(new FileSpec { Name = "report.txt", Content = "report for {message_id}", ContentType = "text/plain" });
        }

        private static string[] At80(PsResult r) =>
            ((string)Assert.Single(r.BaseOutput)).Replace("\r\n", "\n").Split('\n').Where(l => l.Trim().Length > 0).ToArray();

        /// <summary>The table's data lines (after the header and its underline) as the console shows them.</summary>
        private static string[] Rows(string[] lines) => lines.SkipWhile(l => !l.TrimStart().StartsWith("---", StringComparison.Ordinal)).Skip(1).ToArray();

        private const string Rows3 = "JobId,NAME\nINV-2024-0001,Ada\nINV-2024-0002,Grace\nINV-2024-0003,FAIL";

        [Fact]
        public void TheRunTableShowsAcceptedAndAlreadyAcceptedInFullWithTheRowKey()
        {
            Run("$rows | Start-NenRun -WorkflowId $echo -KeyProperty JobId -ExcludeProperty JobId -JournalPath (Join-Path $TestDrive 'j.jsonl') | Out-Null",
                ("rows", CsvRows.Parse(Rows3))).AssertClean();

            PsResult r = Run(@"
                $again = $rows | Start-NenRun -WorkflowId $echo -KeyProperty JobId -ExcludeProperty JobId -JournalPath (Join-Path $TestDrive 'j.jsonl')
                $new = $more | Start-NenRun -WorkflowId $echo -KeyProperty JobId -ExcludeProperty JobId -JournalPath (Join-Path $TestDrive 'j.jsonl')
                @($again) + @($new) | Format-Table | Out-String -Width 80",
                ("rows", CsvRows.Parse(Rows3)), ("more", CsvRows.Parse("JobId,NAME\nINV-2024-0004,Alan"))).AssertClean();

            string[] lines = At80(r);
            Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
            string[] rows = Rows(lines);
            Assert.Equal(4, rows.Length);
            Assert.All(rows.Take(3), l => Assert.Matches(@"^INV-2024-000[123]\s+AlreadyAccepted\s+\d\d:\d\d:\d\d\s+[0-9a-f-]{36}$", l));
            Assert.Matches(@"^INV-2024-0004\s+Accepted\s+\d\d:\d\d:\d\d\s+[0-9a-f-]{36}$", rows[3]);
        }

        [Fact]
        public void TheRunStatusTableShowsEveryStatusInFullWithTheRowKey()
        {
            PsResult r = Run(@"
                $done = $rows | Start-NenRun -WorkflowId $echo -KeyProperty JobId -ExcludeProperty JobId | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60
                $going = $slow | Start-NenRun -WorkflowId $slowWf -KeyProperty JobId -ExcludeProperty JobId | Get-NenRun
                @($done) + @($going) | Sort-Object RowKey | Format-Table | Out-String -Width 80",
                ("rows", CsvRows.Parse(Rows3)), ("slow", CsvRows.Parse("JobId,NAME\nINV-2024-0009,Slow"))).AssertClean();

            string[] lines = At80(r);
            Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
            string[] rows = Rows(lines);
            Assert.Equal(4, rows.Length);
            Assert.Matches(@"^INV-2024-0001\s+success\s+\d ", rows[0]);
            Assert.Matches(@"^INV-2024-0002\s+success\s+\d ", rows[1]);
            Assert.Matches(@"^INV-2024-0003\s+failed\s+0 The echo workflow", rows[2]);
            Assert.Matches(@"^INV-2024-0009\s+(processing|queued)\s+0 ", rows[3]);
        }

        [Fact]
        public void TheResultFileTableShowsHowEachFileWasSavedWithTheRowKey()
        {
            PsResult r = Run(@"
                $status = $rows | Start-NenRun -WorkflowId $echo -KeyProperty JobId -ExcludeProperty JobId | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60
                $first = $status | Get-NenRunResult -Destination $TestDrive
                $again = $status | Get-NenRunResult -Destination $TestDrive -Expand
                @($first) + @($again) | Format-Table | Out-String -Width 80",
                ("rows", CsvRows.Parse("JobId,NAME\nINV-2024-0001,Ada"))).AssertClean();

            string[] lines = At80(r);
            Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
            string[] rows = Rows(lines);
            Assert.All(rows, l => Assert.StartsWith("INV-2024-0001 ", l));
            Assert.Contains(rows, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^INV-2024-0001\s+\d+ Downloaded report\.txt "));
            Assert.Contains(rows, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^INV-2024-0001\s+\d+ Skipped\s+assets\.zip "));
            Assert.Contains(rows, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^INV-2024-0001\s+\d+ Unpacked\s+result\.json "));
        }

        [Fact]
        public void AWiderConsoleShowsTheWholeMessageIdAndError()
        {
            PsResult r = Run(@"$rows | Start-NenRun -WorkflowId $echo -KeyProperty JobId -ExcludeProperty JobId | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 |
                Format-Table | Out-String -Width 120", ("rows", CsvRows.Parse("JobId,NAME\nINV-2024-0003,FAIL"))).AssertClean();

            string messageId = State.Ledger.Single().MessageId;
            Assert.Contains(At80(r), l => l.Contains("The echo workflow was asked to fail.") && l.EndsWith(messageId, StringComparison.Ordinal));
        }
    }
}
