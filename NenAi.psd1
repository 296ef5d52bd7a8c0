@{
    RootModule           = 'NenAi.psm1'
    ModuleVersion        = '0.3.0'
    GUID                 = '6c0d7b8e-2f4a-4f3e-9a61-0e5b1d7c9a42'
    Author               = 'NenAi contributors'
    CompanyName          = 'NenAi'
    Copyright            = '(c) NenAi contributors. MIT License.'
    Description          = 'Drive the Nen workflow-automation API (docs.getnen.ai) from scripts, scheduled tasks and CSV batches: signed requests, bounded-concurrency batches with a crash-safe journal, concurrent waiting, a webhook receiver with polling as its safety net, and safe result downloads.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess     = @('NenAi.Format.ps1xml')
    FunctionsToExport    = @()
    CmdletsToExport      = @('Start-NenRun', 'Wait-NenRun', 'Get-NenRun', 'Get-NenRunResult', 'Test-NenWebhookSignature', 'Receive-NenWebhook', 'Connect-NenService', 'Get-NenConnection', 'Disconnect-NenService')
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Nen', 'NenAI', 'Automation', 'Workflow', 'API', 'REST', 'HMAC', 'Webhook', 'Batch', 'CSV', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://opensource.org/licenses/MIT'   # the MIT License; the module folder carries its LICENSE
            ProjectUri   = 'https://docs.getnen.ai'
            # The latest entry of CHANGELOG.md (a test keeps them the same).
            ReleaseNotes = @'
- The whole pipeline tells the truth. One circuit for every stage: a status outage, storage that stalls or cannot be reached, a refused key or a 429/503 storm beyond the budget ends Wait-NenRun, Get-NenRun and Get-NenRunResult with one error after a bounded number of requests, and every run or file is counted under what is known (StatusUnknown, NotFollowed, NotDownloaded; Failed only when the service said failed). Summary counts changed (breaking for scripts that read them): Wait-NenRun Runs/Succeeded/Failed/TimedOut/StatusUnknown/NotFollowed, Get-NenRun Runs/Answered/NotFound/StatusUnknown, Get-NenRunResult Runs/Files/Failed/NotDownloaded.
- Start-NenRun: the stop of a batch is one non-terminating error written last (with -ErrorAction Stop still terminating), so `$r = ... | Start-NenRun` holds every run accepted before it and `| Wait-NenRun | Get-NenRunResult` follows them; its message names the rows not sent. -RetryBudgetSec (default 120, on every networked cmdlet) is a time budget that rides out a burst of 429/503 by pausing the whole batch. An answer every row would get is given once: an unknown workflow (one error per distinct id), a -WorkflowId that is not an id, a -KeyProperty or -Property column the first row lacks.
- Get-NenRunResult downloads in parallel (-ThrottleLimit, default 8), streamed to disk (a 2 GiB file adds about 10 MB of working set); output order documented.
- Receive-NenWebhook can face the internet: a body read holds no scarce slot and buffers grow with bytes received (200 stalled connections do not delay signed deliveries); with -StatePath an update is on disk before its 200 and a receiver killed at any moment writes every acknowledged update once after a restart; a full backlog answers 503 with Retry-After; a run recorded as final is never written again; memory and state file stay bounded over days (-MaximumRememberedRuns, compaction); polling that is refused or cannot reach the API is a warning, not the end of runs whose webhooks still arrive; -TimeoutSec validated.
- Every row has a key you can read: RowKey is the -KeyProperty value, else 'row 3' (breaking: no 'col:' prefix); journals record row numbers. -WhatIf names the parameters of each row, and with -Verbose shows the body with secure values masked. New columns come last (Run.Submitted, RunStatus.Files, ResultFile.Saved), so a CSV read by position keeps its columns.
- Connect-NenService changes what it is given and keeps the rest; a connection belongs to its runspace. Proxies named as proxies: a proxy's refusal is NenProxyAuthenticationRequired naming the proxy, one error.
- Windows Server: a signed package (build.ps1 -Task Package -CertificatePath or -CertificateThumbprint, -TimestampServer); paths checked against Windows PowerShell 5.1's own rules before .NET Framework can throw; the net472 resolver answers by assembly identity; the module's connections check certificates themselves and take TLS 1.2 only where the process lacks it; README covers AllUsers installs, AllSigned, WDAC and AppLocker. The nightly recipe's Task Scheduler action exits non-zero when its script cannot run.
- A second day: a row reused under a key the journal records as sent but with other values is its own NenRowChangedSinceSent error (the journal keeps a keyed fingerprint of what was sent; secure values are not in it), not a silent "already accepted". A -Destination no file can be written to (read-only, no permission, too long) is one error that stops Get-NenRunResult (NenDestinationNotWritable or NenPathTooLong), every run counted NotDownloaded. Storage 429/503 bursts are waited out within -RetryBudgetSec. Test-NenWebhookSignature takes -WebhookSecret. Messages join a server's text and the module's as sentences.
- Receive-NenWebhook's summary counts each run once (Finished, Failed, TimedOut, StatusUnknown, NotFollowed, WrittenBefore add up to Runs; breaking: Finished no longer counts runs that timed out); runs the state file records as written are counted and named in one warning with the way to follow them again; polls that keep failing (a 5xx outage) are one warning and one error at the end; it stops listening at once when its work is cancelled, and writes what it acknowledged before an error that stops it.
- Diagnostics: use $DebugPreference = 'Continue' rather than -Debug in a task (PowerShell prompts before each verbose and warning line of a compiled cmdlet under -Debug). A reverse proxy must send the Host that Receive-NenWebhook's prefix names.
- Answers that are not the Nen API's trip the one circuit: a redirect stops the command at once with one NenRedirected error naming where it led (never followed; rows not sent, not failed); a 2xx that is not the API's JSON (a captive portal's page, a body cut short) is an unknown outcome with its Idempotency-Key and five in a row stop the batch with one NenUnexpectedResponse; a status the contract does not define (418, 405) starts no run, so its row is sent again, and five in a row stop the batch with one NenHttpError; status reads so answered (Wait-NenRun, Get-NenRun, Get-NenRunResult, Receive-NenWebhook's polling) stop with one error.
- Receive-NenWebhook: a status the module does not know is a warning naming the run (once per run and status), never silence; a signed body without a string status or with a message id no run can have is answered 400 and kept nowhere (one NenUnexpectedResponse saying why); a state file from an older version holding such updates is warned of; a stop drops the deliveries it is handling, never with a 200 (on Linux and macOS .NET's listener still answers 200 to a delivery not yet taken at the instant of a stop: documented), and no longer holds up for stalled clients (30 stalled clients held a stop for 15 s).
- Message ids over 128 characters or that would change a request's path are refused locally by Wait-NenRun, Get-NenRun and Get-NenRunResult (NenInvalidMessageId, no request). A -SecureParameter name that is also an input column or a -Parameter key is refused before anything is sent (NenSecureParameterConflict); before, the column's plain value went out under the secure name. Get-NenRunResult -ThrottleLimit 1 writes runs in the order they came, also with -Expand. A result name with ':' is refused for the colon, not as an absolute path.
'@
        }
    }
}
