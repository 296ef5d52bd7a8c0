#Requires -Version 7.4
# Runs every example of the help (docs/en-US) and every README block marked <!-- example --> against the
# emulator with its demo configuration, so the documentation cannot describe a module that does not exist.

BeforeDiscovery {
    $root = Resolve-Path (Join-Path $PSScriptRoot '../..')

    function Get-FencedBlock {
        param([string[]] $Lines, [int] $From)
        $start = $From
        while ($start -lt $Lines.Count -and $Lines[$start] -notmatch '^```powershell') { $start++ }
        $code = [System.Collections.Generic.List[string]]::new()
        for ($i = $start + 1; $i -lt $Lines.Count -and $Lines[$i] -notmatch '^```'; $i++) { $code.Add($Lines[$i]) }
        $code -join "`n"
    }

    $examples = [System.Collections.Generic.List[hashtable]]::new()
    foreach ($file in Get-ChildItem (Join-Path $root 'docs/en-US') -Filter '*-Nen*.md') {
        $lines = Get-Content $file.FullName
        for ($i = 0; $i -lt $lines.Count; $i++) {
            if ($lines[$i] -match '^### (Example \d+.*)') {
                $examples.Add(@{ Source = $file.BaseName; Title = $Matches[1]; Code = Get-FencedBlock $lines ($i + 1) })
            }
        }
    }
    $readme = Get-Content (Join-Path $root 'README.md')
    for ($i = 0; $i -lt $readme.Count; $i++) {
        if ($readme[$i] -eq '<!-- example -->') {
            $heading = ($readme[0..$i] | Where-Object { $_ -match '^#{2,3} ' } | Select-Object -Last 1) -replace '^#+ '
            $examples.Add(@{ Source = 'README'; Title = $heading; Code = Get-FencedBlock $readme ($i + 1) })
        }
    }
}

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    Import-Module (Join-Path $script:root 'NenAi.psd1') -Force
    $script:emulator = Start-EmulatorProcess -ConfigPath (Join-Path $script:root 'src/NenAi.Emulator/emulator.sample.json')
    $env:NEN_BASE_URL = $script:emulator.BaseUri
    $env:NEN_API_KEY = 'nen-demo-api-key'
    $env:NEN_SIGNING_KEY = 'nen-demo-signing-key'

    # The examples use SecretManagement; where it is not installed, a stand-in answers with the demo values.
    if (-not (Get-Command Get-Secret -ErrorAction Ignore)) {
        function global:Get-Secret {
            param([string] $Name)
            $value = switch ($Name) { 'NenApiKey' { 'nen-demo-api-key' } 'NenSigningKey' { 'nen-demo-signing-key' } default { 'correct horse battery staple' } }
            ConvertTo-SecretText $value
        }
        $script:stubbedGetSecret = $true
    }

    # Webhook receiver examples wait for a delivery: this sends signed ones until the receiver stops.
    $script:sendWebhooks = {
        param([string] $Secret)
        $hmac = [System.Security.Cryptography.HMACSHA256]::new([System.Text.Encoding]::UTF8.GetBytes($Secret))
        foreach ($status in 'processing', 'success') {
            $body = '{"workflow_id":"w","message_id":"m","status":"' + $status + '","expires_at":1730319600}'
            $signature = 'sha256=' + ([System.BitConverter]::ToString($hmac.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($body))) -replace '-').ToLowerInvariant()
            for ($attempt = 0; $attempt -lt 100; $attempt++) {
                try {
                    $null = Invoke-WebRequest -Uri 'http://127.0.0.1:8089/nen/' -Method Post -Body $body -ContentType 'application/json' -Headers @{ 'X-Hmac-Signature' = $signature } -TimeoutSec 5
                    break
                }
                catch { Start-Sleep -Milliseconds 100 }   # the receiver is not listening yet (or has stopped)
            }
        }
    }
}

AfterAll {
    Stop-EmulatorProcess $script:emulator
    if ($script:stubbedGetSecret) { Remove-Item Function:\Get-Secret -ErrorAction SilentlyContinue }
    Remove-Item Env:NEN_BASE_URL, Env:NEN_API_KEY, Env:NEN_SIGNING_KEY, Env:NEN_WEBHOOK_SECRET -ErrorAction SilentlyContinue
}

Describe 'Documented examples' {
    BeforeEach {
        $script:work = Join-Path $TestDrive ([guid]::NewGuid())
        New-Item -ItemType Directory -Path $script:work | Out-Null
        Copy-Item (Join-Path $script:root 'docs/examples/jobs.csv') $script:work
        Push-Location $script:work
        $env:NEN_WEBHOOK_SECRET = 'whsec-test'
    }
    AfterEach { Pop-Location }

    It '<Source>: <Title>' -ForEach $examples {
        # The quick start names the emulator's default port; this run's emulator has a free one.
        $code = $Code.Replace('http://127.0.0.1:5080', $env:NEN_BASE_URL)
        $job = $null
        # Receivers that start their own run get the emulator's real webhooks; the others get signed stand-ins.
        if ($code -match 'HttpListener' -and $code -notmatch '-WebhookCallback') {
            $secret = if ($code -match 'nen-demo-webhook-secret') { 'nen-demo-webhook-secret' } else { 'whsec-test' }
            $job = Start-ThreadJob -ScriptBlock $script:sendWebhooks -ArgumentList $secret
        }
        try {
            $output = & ([scriptblock]::Create($code)) 2>&1
            $terminating = $output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] -and $_.FullyQualifiedErrorId -notmatch '^Nen(RunFailed|WaitTimeout)' }
            $terminating | Should -BeNullOrEmpty -Because ($terminating | Out-String)
        }
        finally {
            if ($job) { $job | Wait-Job -Timeout 30 | Remove-Job -Force }
        }
    }
}
