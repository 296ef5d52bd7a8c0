@{
    RootModule           = 'NenAi.psm1'
    ModuleVersion        = '0.2.0'
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
- Install by name: `build.ps1 -Task Package` writes a .nupkg that `Install-PSResource` installs; the zip's top folder is NenAi.
- A batch tells the truth: an outage, a refused key or an unreachable service stops the batch with one error; `-ErrorAction Stop` sends nothing more; a downstream `Select-Object -First` ends the batch cleanly; nested values are sent as JSON or refused per row.
- Windows Server as it is: TLS 1.3 only where .NET Framework and Windows have it, a clear message on .NET Framework older than 4.7.2 or PowerShell 7 older than 7.4, a loader that works in Constrained Language, proxy credentials never process-wide, no Expect: 100-continue, paths checked against the 5.1 limit, case-insensitive result names, ASCII-only messages.
- Downloads keep their working files in a .nenai folder apart from every result name; a full disk is an error at once.
- Credentials once per session: Connect-NenService (keys as SecureString, PSCredential or a SecretManagement secret name), Get-NenConnection (shows where each setting comes from, never a secret), Disconnect-NenService.
- One vocabulary: -RequestTimeoutSec is the per-request limit on every networked cmdlet; -TimeoutSec is only Wait-NenRun's whole-wait limit (on Start-NenRun and Get-NenRunResult it still works in this release, with a deprecation warning, and will be removed).
- Get-NenRunResult writes flat NenAi.ResultFile objects (ten readable columns in Export-Csv, RowKey included) that pipe to Get-Item, Copy-Item and Remove-Item; every default table fits 80 columns with the row key and the full status.
- about_NenAi reads as plain text in Get-Help; a base URL whose path is wrong gets an error that says so (NenEndpointNotFound).
- Receive-NenWebhook: the webhook receiver as a cmdlet (verified, de-duplicated, answered within 5 s, refuses oversized and unsigned posts, polls a run whose webhook is lost, ends when every run has finished and frees its port); the emulator can drop, duplicate, delay and reorder webhooks.
- Every row-level message names its row (its -KeyProperty value and its number in the input): errors, warnings, -WhatIf and -Verbose lines, and downstream errors of the runs a row started. -SummaryVariable on Start-NenRun, Wait-NenRun, Get-NenRun, Get-NenRunResult and Receive-NenWebhook sets a NenAi.BatchSummary (counts, errors per id, HasProblems), whose one line also goes to the Information stream.
- Get-Help offers only what each syntax honours: `Get-NenRun -JournalPath` takes no connection parameter (it sends nothing) and its summary counts Listed and WithoutRun; the help says why -ThrottleLimit is 8 on Start-NenRun and 16 on the status queries.
- One error, not one per row or file, in three more cases: a base URL that is not the API's (NenEndpointNotFound), no -WorkflowId and no WorkflowId column, and storage that no connection reaches (downloads share the batch's circuit). A proxy that refuses an https tunnel's credentials is NenProxyAuthenticationRequired at once, not a network error after retries. The scheduled-task recipe logs the error that stopped its batch.
'@
        }
    }
}
