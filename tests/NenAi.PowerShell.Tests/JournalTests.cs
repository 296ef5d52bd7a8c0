using System.IO;
using System.Linq;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>A batch with -JournalPath, run again: nothing started twice.</summary>
    public class JournalTests : HostedTest
    {
        private const string Batch = "$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id -JournalPath $journal";

        [Fact]
        public void ReRunningTheSameCommandNeverStartsARowTwice()
        {
            string journal = Path.Combine(TestDrive, "nightly.jsonl");
            var rows = CsvRows.Numbered(4);

            PsResult first = Run(Batch, ("rows", rows), ("journal", journal)).AssertClean();
            PsResult second = Run(Batch, ("rows", rows), ("journal", journal)).AssertClean();

            Assert.Equal(4, State.Ledger.Count);
            Assert.All(second.Output, r => Assert.Equal("AlreadyAccepted", PsResult.Prop(r, "Status")));
            Assert.Equal(first.Strings("MessageId").OrderBy(i => i), second.Strings("MessageId").OrderBy(i => i));
            Assert.Equal(first.Strings("InputObject.Id").OrderBy(i => i), second.Strings("InputObject.Id").OrderBy(i => i));
        }

        [Fact]
        public void AJournalWhoseFolderIsAFileSaysSoAndSendsNothing()
        {
            string file = System.IO.Path.Combine(TestDrive, "afile");
            System.IO.File.WriteAllText(file, "not a folder");

            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo -JournalPath $journal", ("rows", CsvRows.Numbered(2)), ("journal", System.IO.Path.Combine(file, "j.jsonl")));

            Assert.Equal("NenJournalWriteFailed,NenAi.Commands.StartNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Contains($"'{file}' is a file, where a folder must be", r.Terminating!.Exception.Message);
            Assert.DoesNotContain(".lock", r.Terminating.Exception.Message);
            Assert.Empty(State.Ledger);
        }

        [Fact]
        public void ARowAddedToTheCsvIsTheOnlyOneSentOnTheReRun()
        {
            string journal = Path.Combine(TestDrive, "nightly.jsonl");
            Run(Batch, ("rows", CsvRows.Numbered(3)), ("journal", journal)).AssertClean();

            PsResult r = Run(Batch, ("rows", CsvRows.Numbered(5)), ("journal", journal)).AssertClean();

            Assert.Equal(5, State.Ledger.Count);
            Assert.Equal(new[] { "Accepted", "Accepted", "AlreadyAccepted", "AlreadyAccepted", "AlreadyAccepted" }, r.Strings("Status").OrderBy(s => s));
        }

        [Fact]
        public void AJournalInUseByAnotherBatchIsATerminatingError()
        {
            string journal = Path.Combine(TestDrive, "busy.jsonl");
            // Another batch holds the journal.
            using FileStream held = File.Open(journal + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

            PsResult r = Run(Batch, ("rows", CsvRows.Numbered(2)), ("journal", journal));

            Assert.Equal("NenJournalInUse,NenAi.Commands.StartNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(0, State.PostRuns);
        }
    }
}
