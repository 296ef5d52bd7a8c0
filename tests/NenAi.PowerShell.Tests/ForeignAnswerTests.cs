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
    /// Acceptance, through the cmdlets: a server that is not the Nen API (a captive portal answering 200 text/html, a
    /// redirect, a 418) answering every request ends the stage with one error that says what came back, after a bounded
    /// number of requests, and the summary counts rows not sent (never "failed") and runs not followed.
    /// </summary>
    public class ForeignAnswerTests : HostedTest
    {
        private const int Forever = 1_000_000;
        private const string PortalPage = "<html><body>Please log in to the Hotel WiFi</body></html>";
        private readonly ITestOutputHelper _output;

        public ForeignAnswerTests(ITestOutputHelper output) => _output = output;

        private void AnswerEvery(string route, int status, string? contentType, string? body, string? location = null)
        {
            var fault = new ScriptedFault { Kind = "raw", Route = route, Count = Forever, StatusCode = status, Body = body };
            if (contentType != null) fault.Headers["Content-Type"] = contentType;
            if (location != null) fault.Headers["Location"] = location;
            State.Faults.Script(fault);
        }

        private static int Count(PSObject summary, string outcome) =>
            ((IDictionary)PsResult.Prop(summary, "Outcomes")!)[outcome] is int n ? n : 0;

        /// <summary>The command in a try/catch, then its summary, the error that ended it and how many errors it wrote in all.</summary>
        private (PSObject Summary, ErrorRecord? Stop, int Errors) Caught(string command, params (string, object?)[] variables)
        {
            PsResult r = Run($"$caught = $null; try {{ {command} -SummaryVariable s -ErrorVariable +allErrors | Out-Null }} catch {{ $caught = $_ }}; $s; $caught; @($allErrors).Count", variables);
            Assert.Null(r.Terminating);
            ErrorRecord? stop = r.Output.Count > 2 ? r.Output[1].BaseObject as ErrorRecord : null;
            return (r.Output[0], stop, (int)r.Output[^1].BaseObject);
        }

        private PsResult StartFifty(out PSObject summary)
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id -JournalPath (Join-Path $drive 'j.jsonl') -SummaryVariable s; $s",
                ("rows", CsvRows.Numbered(50)), ("drive", TestDrive));
            Assert.Null(r.Terminating);
            summary = r.Output[^1];
            return r;
        }

        /// <summary>"Not sent" is honest: once the server answers as the API does, the same command starts every row, each once.</summary>
        private void AgainOnceFixedStartsEachRowOnce()
        {
            State.Faults.Clear();
            StartFifty(out PSObject again);
            Assert.Equal((50, 0), (Count(again, "Accepted"), Count(again, "NotSent")));
            Assert.Equal(50, State.Ledger.Count);
        }

        [Fact]
        public void ACaptivePortalAnsweringEveryPostEndsStartNenRunAfterAFewUnknownsWithOneStopError()
        {
            // Acceptance: 50 POSTs and 50 NenOutcomeUnknown ("The server accepted the run ..."), never stopping.
            AnswerEvery("POST /runs", 200, "text/html", PortalPage);

            PsResult r = StartFifty(out PSObject summary);
            int posts = State.PostRuns;

            ErrorRecord stop = r.Errors[^1];
            _output.WriteLine($"captive portal, Start-NenRun, 50 rows: {posts} POSTs, {r.Errors.Count} error(s); stop: {stop.Exception.Message}");
            Assert.InRange(posts, 5, 9);
            Assert.Equal("NenUnexpectedResponse,NenAi.Commands.StartNenRunCommand", stop.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidResult, stop.CategoryInfo.Category);
            Assert.Contains("HTTP 200 OK with text/html, not the Nen API's JSON", stop.Exception.Message);
            Assert.Contains("captive portal", stop.Exception.Message);
            // The rows sent are unknown (each its own error, with its Idempotency-Key), the others not sent; none failed.
            Assert.Equal(posts + 1, r.Errors.Count);
            Assert.All(r.Errors.Take(posts), e => Assert.Equal("NenOutcomeUnknown,NenAi.Commands.StartNenRunCommand", e.FullyQualifiedErrorId));
            Assert.All(r.Errors.Take(posts), e => Assert.DoesNotContain("accepted", e.Exception.Message, StringComparison.OrdinalIgnoreCase));
            Assert.Equal((posts, 50 - posts, 0, 0), (Count(summary, "Unknown"), Count(summary, "NotSent"), Count(summary, "Failed"), Count(summary, "Accepted")));
        }

        [Fact]
        public void ARedirectEndsStartNenRunAtOnceWithOneErrorNamingWhereItLedAndEveryRowNotSent()
        {
            // Acceptance: every POST answered 302: 50 NenHttpError ("HTTP 302 Found", Location not named), "50 failed".
            AnswerEvery("POST /runs", 302, null, null, location: "http://127.0.0.2:5399/runs?ticket=8c1d-portal");

            PsResult r = StartFifty(out PSObject summary);

            ErrorRecord stop = Assert.Single(r.Errors);
            _output.WriteLine($"redirect, Start-NenRun, 50 rows: {State.PostRuns} POSTs; summary: {summary}; stop: {stop.Exception.Message}");
            Assert.InRange(State.PostRuns, 1, 8);
            Assert.Equal("NenRedirected,NenAi.Commands.StartNenRunCommand", stop.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, stop.CategoryInfo.Category);
            Assert.Contains("a redirect to http://127.0.0.2:5399/runs.", stop.Exception.Message);
            Assert.Contains("-BaseUri", stop.Exception.Message);
            Assert.DoesNotContain("ticket", stop.Exception.Message);
            Assert.Contains("50 not sent", stop.Exception.Message);
            Assert.Equal((50, 0, 0), (Count(summary, "NotSent"), Count(summary, "Failed"), Count(summary, "Unknown")));
            Assert.Empty(State.Ledger);
            AgainOnceFixedStartsEachRowOnce();
        }

        [Fact]
        public void AnUndefinedStatusAnsweringEveryPostEndsStartNenRunWithOneErrorAndNoRowCountedFailed()
        {
            // Acceptance: every POST a 418: 50 NenHttpError, "50 failed".
            AnswerEvery("POST /runs", 418, "text/plain", "I'm a teapot");

            PsResult r = StartFifty(out PSObject summary);

            ErrorRecord stop = Assert.Single(r.Errors);
            _output.WriteLine($"418, Start-NenRun, 50 rows: {State.PostRuns} POSTs; summary: {summary}; stop: {stop.Exception.Message}");
            // The rows on the wire together (-ThrottleLimit 8), and the streak's probe: a row sent again once (a second probe
            // when the first went out before the streak was five long; CI once saw 10).
            Assert.InRange(State.PostRuns, 5, 8 + 2);
            Assert.Equal("NenHttpError,NenAi.Commands.StartNenRunCommand", stop.FullyQualifiedErrorId);
            Assert.Contains("HTTP 418", stop.Exception.Message);
            Assert.Contains("not as the Nen API answers", stop.Exception.Message);
            Assert.Equal((50, 0, 0), (Count(summary, "NotSent"), Count(summary, "Failed"), Count(summary, "Unknown")));
            Assert.Empty(State.Ledger);
            AgainOnceFixedStartsEachRowOnce();
        }

        [Theory]
        [InlineData(200, "text/plain", "not json at all", "NenUnexpectedResponse")]
        [InlineData(200, "text/html", PortalPage, "NenUnexpectedResponse")]
        [InlineData(302, null, null, "NenRedirected")]
        public void StatusReadsThatAreNotTheApisEndWaitNenRunWithOneErrorAndEveryRunNotFollowed(int status, string? contentType, string? body, string errorId)
        {
            // Acceptance: 50 runs, GET /runs/{id} answered "not json at all": one GET and one NenUnexpectedResponse per run.
            PSObject[] runs = Run("$rows | Start-NenRun -WorkflowId $slowWf", ("rows", CsvRows.Numbered(50))).AssertClean().Output.ToArray();
            AnswerEvery("GET /runs", status, contentType, body, status == 302 ? "https://portal.example.test/login?mac=00-11-22" : null);
            int before = State.GetRuns;

            var (summary, stop, errors) = Caught("$runs | Wait-NenRun -PollIntervalSec 0.2", ("runs", runs));
            int gets = State.GetRuns - before;

            Assert.NotNull(stop);
            Assert.Equal(1, errors);
            _output.WriteLine($"{status} {contentType}, Wait-NenRun, 50 runs: {gets} GETs; summary: {summary}; stop: {stop!.Exception.Message}");
            Assert.Equal(errorId + ",NenAi.Commands.WaitNenRunCommand", stop.FullyQualifiedErrorId);
            Assert.InRange(gets, 1, 30);
            Assert.Equal((50, 0, 0, 50), (Count(summary, "Runs"), Count(summary, "Failed"), Count(summary, "StatusUnknown"), Count(summary, "NotFollowed")));
            Assert.DoesNotContain("00-11-22", stop.Exception.Message);
        }

        [Fact]
        public void StatusReadsAnsweredWithAPageEndGetNenRunResultWithOneErrorAndNoRunCountedFailed()
        {
            string[] ids = Run("$rows | Start-NenRun -WorkflowId $echo", ("rows", CsvRows.Numbered(30))).AssertClean().Strings("MessageId").Select(s => s!).ToArray();
            AnswerEvery("GET /runs", 200, "text/html", PortalPage);
            int before = State.GetRuns;

            var (summary, stop, errors) = Caught("$ids | Get-NenRunResult -Destination (Join-Path $drive 'out')", ("ids", ids), ("drive", TestDrive));
            int gets = State.GetRuns - before;

            Assert.NotNull(stop);
            _output.WriteLine($"captive portal, Get-NenRunResult, 30 runs: {gets} GETs; summary: {summary}; stop: {stop!.Exception.Message}");
            Assert.Equal(1, errors);
            Assert.Equal("NenUnexpectedResponse,NenAi.Commands.GetNenRunResultCommand", stop.FullyQualifiedErrorId);
            Assert.InRange(gets, 1, 30);
            Assert.Equal((0, 0), (Count(summary, "Files"), Count(summary, "Failed")));
        }

        /// <summary>
        /// Acceptance: GET /runs/{id} answering a portal's page, garbage or a 418 for 1 run of 20 piped from Start-NenRun
        /// (so each needs a status read) counted it Failed. Its status could not be read and nothing was downloaded:
        /// NotDownloaded, as Wait-NenRun and Get-NenRun count it StatusUnknown; its own error names its row.
        /// </summary>
        [Theory]
        [InlineData(200, "text/html", PortalPage, "NenUnexpectedResponse")]
        [InlineData(200, "text/plain", "not json at all", "NenUnexpectedResponse")]
        [InlineData(418, "text/plain", "I'm a teapot", "NenHttpError")]
        public void OneRunsStatusReadAnsweredNotAsTheApiAnswersIsNotDownloadedNeverFailed(int status, string contentType, string body, string errorId)
        {
            PSObject[] runs = Run("$rows | Start-NenRun -WorkflowId $echo -KeyProperty Id -ExcludeProperty Id", ("rows", CsvRows.Numbered(20))).AssertClean().Output.ToArray();
            Run("$runs | Wait-NenRun | Out-Null", ("runs", runs)).AssertClean(); // every run has finished: its files are there to get
            string odd = (string)PsResult.Prop(runs[6], "MessageId")!;
            var fault = new ScriptedFault { Kind = "raw", Route = "GET /runs", MessageId = odd, Count = Forever, StatusCode = status, Body = body };
            fault.Headers["Content-Type"] = contentType;
            State.Faults.Script(fault);

            PsResult r = Run("$runs | Get-NenRunResult -Destination (Join-Path $drive 'out') -SummaryVariable s | Out-Null; $s",
                ("runs", runs), ("drive", TestDrive));

            PSObject summary = r.Output[^1];
            _output.WriteLine($"{status} {contentType} for 1 of 20 runs, Get-NenRunResult: {summary}");
            Assert.Equal((20, 0, 1), (Count(summary, "Runs"), Count(summary, "Failed"), Count(summary, "NotDownloaded")));
            Assert.True(Count(summary, "Files") > 0);
            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal(errorId + ",NenAi.Commands.GetNenRunResultCommand", error.FullyQualifiedErrorId);
            Assert.Contains(odd, error.Exception.Message);
            Assert.Equal(odd, PsResult.Prop(PSObject.AsPSObject(error.TargetObject), "MessageId")); // the run as it was piped, its row key with it
            Assert.Equal(PsResult.Prop(runs[6], "RowKey"), PsResult.Prop(PSObject.AsPSObject(error.TargetObject), "RowKey"));
            Assert.False(Directory.Exists(Path.Combine(TestDrive, "out", odd)));
        }

        [Fact]
        public void StatusReadsAnsweredWithAPageEndGetNenRunWithOneError()
        {
            string[] ids = Run("$rows | Start-NenRun -WorkflowId $slowWf", ("rows", CsvRows.Numbered(30))).AssertClean().Strings("MessageId").Select(s => s!).ToArray();
            AnswerEvery("GET /runs", 200, "text/html", PortalPage);
            int before = State.GetRuns;

            var (summary, stop, errors) = Caught("$ids | Get-NenRun", ("ids", ids));
            int gets = State.GetRuns - before;

            Assert.NotNull(stop);
            Assert.Equal(1, errors);
            _output.WriteLine($"captive portal, Get-NenRun, 30 runs: {gets} GETs; summary: {summary}; stop: {stop!.Exception.Message}");
            Assert.Equal("NenUnexpectedResponse,NenAi.Commands.GetNenRunCommand", stop.FullyQualifiedErrorId);
            Assert.InRange(gets, 1, 30);
            Assert.Equal(0, Count(summary, "Answered"));
            Assert.Equal(Count(summary, "Runs"), Count(summary, "StatusUnknown"));
        }
    }
}
