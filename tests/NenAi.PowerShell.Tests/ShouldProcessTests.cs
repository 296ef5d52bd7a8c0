using System.IO;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>-WhatIf, $WhatIfPreference and -Confirm as PowerShell's ShouldProcess applies them.</summary>
    public class ShouldProcessTests : HostedTest
    {
        [Fact]
        public void WhatIfSendsNothingAndWritesNothing()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo -ExcludeProperty Id -WhatIf", ("rows", CsvRows.Numbered(5))).AssertClean();

            Assert.Empty(r.Output);
            Assert.Equal(0, State.PostRuns);
            Assert.Empty(State.Ledger);
        }

        [Fact]
        public void WhatIfPreferenceSendsNothing()
        {
            PsResult r = Run("$WhatIfPreference = $true; $rows | Start-NenRun -WorkflowId $echo -ExcludeProperty Id", ("rows", CsvRows.Numbered(5))).AssertClean();

            Assert.Empty(r.Output);
            Assert.Equal(0, State.PostRuns);
        }

        [Fact]
        public void WhatIfFalseOverridesThePreference()
        {
            PsResult r = Run("$WhatIfPreference = $true; $rows | Start-NenRun -WorkflowId $echo -ExcludeProperty Id -WhatIf:$false", ("rows", CsvRows.Numbered(3))).AssertClean();

            Assert.Equal(3, r.Output.Count);
            Assert.Equal(3, State.Ledger.Count);
        }

        [Fact]
        public void ConfirmFalseStartsWithoutAsking()
        {
            PsResult r = Run("$ConfirmPreference = 'Low'; $rows | Start-NenRun -WorkflowId $echo -ExcludeProperty Id -Confirm:$false", ("rows", CsvRows.Numbered(2))).AssertClean();

            Assert.Equal(2, r.Output.Count);
            Assert.Equal(2, State.Ledger.Count);
        }

        [Fact]
        public void APreviewNeedsNoKeyAndWritesNoJournal()
        {
            string journal = Path.Combine(TestDrive, "preview.jsonl");
            PsResult r = Run(@"$PSDefaultParameterValues.Clear()
                $rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -JournalPath $journal -WhatIf",
                ("rows", CsvRows.Numbered(2)), ("journal", journal)).AssertClean();

            Assert.Empty(r.Output);
            Assert.False(File.Exists(journal));
            Assert.Equal(0, State.PostRuns);
        }

        [Fact]
        public void APreviewStillReportsBadRows()
        {
            PsResult r = Run("$rows | Start-NenRun -WhatIf", ("rows", CsvRows.Parse("WorkflowId,NAME\nnot-a-guid,x")));

            Assert.Equal("NenInvalidWorkflowId,NenAi.Commands.StartNenRunCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
            Assert.Equal(0, State.PostRuns);
        }
    }
}
