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
    /// <summary>
    /// Get-NenRunResult writes one flat NenAi.ResultFile per file: a short readable CSV that traces each file to its run
    /// and row, and objects the provider cmdlets take by property name, literally (a name with [ ] is no wildcard).
    /// </summary>
    public class ResultFileTests : HostedTest
    {
        protected override void Configure(EmulatorConfig config)
        {
            WorkflowConfig files = config.Workflows.Single(w => w.Id == TestEmulator.FilesWorkflow);
            // "report1.txt" is what the wildcard "report[1].txt" matches: a -Path binding would hit it instead.
            files.Files.Add(new FileSpec { Name = "report[1].txt", Content = "bracketed {message_id}", ContentType = "text/plain" });
            files.Files.Add(new FileSpec { Name = "report1.txt", Content = "decoy {message_id}", ContentType = "text/plain" });
        }

        private const string Batch = "$rows | Start-NenRun -WorkflowId $filesWf -KeyProperty JobId -ExcludeProperty JobId | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 | Get-NenRunResult -Destination $TestDrive";

        [Fact]
        public void ExportCsvWritesAtMostTwelveReadableColumnsThatTraceEachFileToItsRowAndRun()
        {
            string csv = Path.Combine(TestDrive, "files.csv");
            PsResult r = Run(Batch + " | Export-Csv -LiteralPath $csv -NoTypeInformation; Import-Csv -LiteralPath $csv",
                ("rows", CsvRows.Parse("JobId,NAME\nINV-1,Ada\nINV-2,Grace")), ("csv", csv)).AssertClean();

            string[] header = File.ReadLines(csv).First().Split(',').Select(c => c.Trim('"')).ToArray();
            Assert.True(header.Length <= 12, $"{header.Length} columns: {string.Join(", ", header)}");
            Assert.Equal(new[] { "MessageId", "RowKey", "WorkflowId", "Name", "FullName", "Length", "LastWriteTime", "ContentType", "Skipped", "Expanded", "RunSucceeded", "Saved" }, header);
            Assert.DoesNotContain(File.ReadAllLines(csv), l => l.Contains("VersionInfo") || l.Contains("Microsoft.PowerShell.Core\\FileSystem::"));
            Assert.Equal(10, r.Output.Count); // assets.zip, report.txt, data.bin, report[1].txt, report1.txt for each row
            foreach (var entry in State.Ledger)
            {
                string key = entry.Params["NAME"]!.GetValue<string>() == "Ada" ? "INV-1" : "INV-2";
                var rows = r.Output.Where(o => entry.MessageId.Equals(PsResult.Prop(o, "MessageId"))).ToList();
                Assert.Equal(5, rows.Count);
                Assert.All(rows, o => Assert.Equal(key, PsResult.Prop(o, "RowKey")));
                Assert.All(rows, o => Assert.Equal(TestEmulator.FilesWorkflow, PsResult.Prop(o, "WorkflowId")));
                Assert.All(rows, o => Assert.True(File.Exists((string)PsResult.Prop(o, "FullName")!)));
                Assert.Equal("text/plain", PsResult.Prop(rows.Single(o => "report.txt".Equals(PsResult.Prop(o, "Name"))), "ContentType"));
            }
        }

        [Fact]
        public void FilesPipeToGetItemCopyItemGetContentAndRemoveItemByPropertyNameLiterally()
        {
            string archive = Path.Combine(TestDrive, "archive");
            Directory.CreateDirectory(archive);
            PsResult r = Run(Batch + @" | Where-Object Name -EQ 'report[1].txt' -OutVariable bracketed |
                ForEach-Object {
                    $item = $_ | Get-Item
                    [pscustomobject]@{
                        Item = $item.FullName
                        Type = $item.GetType().Name
                        Content = ($_ | Get-Content -Raw)
                        Text = ""$_""
                    }
                }
                $bracketed | Copy-Item -Destination $archive
                $bracketed | Remove-Item",
                ("rows", CsvRows.Parse("JobId,NAME\nINV-1,Ada")), ("archive", archive)).AssertClean();

            string messageId = State.Ledger.Single().MessageId;
            string bracketed = Path.Combine(TestDrive, messageId, "report[1].txt");
            PSObject seen = Assert.Single(r.Output);
            Assert.Equal(bracketed, PsResult.Prop(seen, "Item"));
            Assert.Equal("FileInfo", PsResult.Prop(seen, "Type"));
            Assert.Equal("bracketed " + messageId, PsResult.Prop(seen, "Content"));
            Assert.Equal(bracketed, PsResult.Prop(seen, "Text")); // ToString() is the full path
            Assert.Equal("bracketed " + messageId, File.ReadAllText(Path.Combine(archive, "report[1].txt")));
            Assert.False(File.Exists(bracketed));
            // The wildcard twin was never touched: a -Path binding would have removed it.
            Assert.True(File.Exists(Path.Combine(TestDrive, messageId, "report1.txt")));
            Assert.False(File.Exists(Path.Combine(archive, "report1.txt")));
        }

        [Fact]
        public void TheRowKeyComesThroughAJournalResumeAndARunsCsvReadBack()
        {
            string journal = Path.Combine(TestDrive, "batch.jsonl");
            string runs = Path.Combine(TestDrive, "runs.csv");
            Run("$rows | Start-NenRun -WorkflowId $filesWf -KeyProperty JobId -ExcludeProperty JobId -JournalPath $journal | Export-Csv -LiteralPath $runs -NoTypeInformation",
                ("rows", CsvRows.Parse("JobId,NAME\nINV-7,Ada")), ("journal", journal), ("runs", runs)).AssertClean();

            PsResult resumed = Run("Get-NenRun -JournalPath $journal | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 | Get-NenRunResult -Destination (Join-Path $TestDrive 'a')", ("journal", journal)).AssertClean();
            PsResult fromCsv = Run("Import-Csv -LiteralPath $runs | Get-NenRunResult -Destination (Join-Path $TestDrive 'b')", ("runs", runs)).AssertClean();
            PsResult unkeyed = Run("$rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 | Get-NenRunResult -Destination (Join-Path $TestDrive 'c')",
                ("rows", CsvRows.Parse("NAME\nGrace"))).AssertClean();

            Assert.All(resumed.Output.Concat(fromCsv.Output), o => Assert.Equal("INV-7", PsResult.Prop(o, "RowKey")));
            Assert.NotEmpty(resumed.Output);
            Assert.NotEmpty(fromCsv.Output);
            Assert.All(unkeyed.Output, o => Assert.Equal("row 1", PsResult.Prop(o, "RowKey")));   // without -KeyProperty: the row's number
        }

        [Fact]
        public void SkippedAndExpandedSayHowEachFileGotThere()
        {
            PSObject status = Run("$rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60", ("rows", CsvRows.Parse("NAME\nAda"))).AssertClean().Output.Single();

            PsResult first = Run("$status | Get-NenRunResult -Destination $TestDrive", ("status", status)).AssertClean();
            PsResult again = Run("$status | Get-NenRunResult -Destination $TestDrive -Expand", ("status", status)).AssertClean();

            Assert.All(first.Output, o => Assert.Equal((false, false), ((bool)PsResult.Prop(o, "Skipped")!, (bool)PsResult.Prop(o, "Expanded")!)));
            Assert.All(again.Output.Where(o => !(bool)PsResult.Prop(o, "Expanded")!), o => Assert.True((bool)PsResult.Prop(o, "Skipped")!));
            Assert.Contains(again.Output, o => (bool)PsResult.Prop(o, "Expanded")! && !(bool)PsResult.Prop(o, "Skipped")!);
            Assert.All(again.Output.Where(o => (bool)PsResult.Prop(o, "Expanded")!), o => Assert.Null(PsResult.Prop(o, "ContentType")));
            // Saved says the same in one typed column, the one the default table shows.
            Assert.All(first.Output, o => Assert.Equal("Downloaded", PsResult.Prop(o, "Saved")?.ToString()));
            Assert.All(again.Output, o => Assert.Equal((bool)PsResult.Prop(o, "Expanded")! ? "Unpacked" : "Skipped", PsResult.Prop(o, "Saved")?.ToString()));
            Assert.All(again.Output, o => Assert.True(PsResult.Prop(o, "Saved")!.GetType().IsEnum));
        }

        [Fact]
        public void ExportsKeepEveryEarlierColumnWhereItWasAndAddTheNewOnesAtTheEnd()
        {
            // A CSV of runs is often read by column position (SQL Server BULK INSERT, bcp, a spreadsheet macro): a column
            // added in the middle moves every one after it. Submitted, Files and Saved (issue 28) come last.
            PsResult r = Run(@"
                $runs = $rows | Start-NenRun -WorkflowId $echo
                $statuses = $runs | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60
                ($runs | ConvertTo-Csv -NoTypeInformation)[0]
                ($statuses | ConvertTo-Csv -NoTypeInformation)[0]",
                ("rows", CsvRows.Parse("NAME\nAda"))).AssertClean();

            Assert.Equal(new object[]
            {
                "\"MessageId\",\"WorkflowId\",\"Status\",\"SubmittedAt\",\"RowKey\",\"IdempotencyKey\",\"Row\",\"InputObject\",\"Submitted\"",
                "\"MessageId\",\"RowKey\",\"WorkflowId\",\"Status\",\"State\",\"IsTerminal\",\"Succeeded\",\"TimedOut\",\"Error\",\"Result\",\"ExpiresAt\",\"RetrievedAt\",\"InputObject\",\"Files\"",
            }, r.BaseOutput.ToArray());
        }

        [Fact]
        public void TheTablesColumnsAreRealPropertiesThatFormatTableAndExportCsvSee()
        {
            string csv = Path.Combine(TestDrive, "columns.csv");
            PsResult r = Run(@"
                $runs = $rows | Start-NenRun -WorkflowId $filesWf
                $statuses = $runs | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60
                $files = $statuses | Get-NenRunResult -Destination $TestDrive
                $runs | Format-Table RowKey, Submitted -HideTableHeaders | Out-String
                $statuses | Format-Table RowKey, Files -HideTableHeaders | Out-String
                $files | Sort-Object Name | Format-Table RowKey, Saved, Name -HideTableHeaders | Out-String -Width 120
                $runs[0].Submitted.GetType().FullName
                $runs | Select-Object RowKey, Submitted | Export-Csv -LiteralPath $csv -NoTypeInformation
                Import-Csv -LiteralPath $csv",
                ("rows", CsvRows.Parse("NAME\nAda")), ("csv", csv)).AssertClean();

            string[] text = r.BaseOutput.OfType<string>().ToArray();
            Assert.Matches(@"row 1\s+\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}", text[0]);                 // Submitted: a local date and time
            Assert.Matches(@"row 1\s+5\s*$", text[1].Trim());                                    // Files: the run's five result files
            Assert.Matches(@"row 1\s+Downloaded\s+assets\.zip", text[2]);                         // Saved
            PSObject exported = r.Output.Last();
            Assert.Equal("row 1", PsResult.Prop(exported, "RowKey"));
            Assert.False(string.IsNullOrEmpty((string?)PsResult.Prop(exported, "Submitted")));
            Assert.Equal("System.DateTime", text[3]);   // a time, which Sort-Object and Where-Object compare as one
        }
    }
}
