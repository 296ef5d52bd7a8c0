@{
    RootModule           = 'NenAi.psm1'
    ModuleVersion        = '0.1.0'
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
    CmdletsToExport      = @('Start-NenRun', 'Wait-NenRun', 'Get-NenRun', 'Get-NenRunResult', 'Test-NenWebhookSignature', 'Receive-NenWebhook')
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Nen', 'NenAI', 'Automation', 'Workflow', 'API', 'REST', 'HMAC', 'Webhook', 'Batch', 'CSV', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ProjectUri   = 'https://docs.getnen.ai'
            ReleaseNotes = 'First release: Start-NenRun, Wait-NenRun, Get-NenRun, Get-NenRunResult, Test-NenWebhookSignature, Receive-NenWebhook.'
        }
    }
}
