#Requires -Version 7.4
# A sysadmin's day in real pwsh, with the module as a user gets it (out/NenAi): result files made for Export-Csv and
# the provider cmdlets, default tables that fit 80 columns, one set of connection parameters for every cmdlet,
# credentials once per session (Connect-NenService), plain-text about_NenAi, and a base URL whose path is wrong.
# Each scenario runs in a fresh pwsh process, so no NEN_* variable or session state of this one leaks in.

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    $script:manifest = Join-Path $script:root 'out/NenAi/NenAi.psd1'
    if (-not (Test-Path -LiteralPath $script:manifest)) { throw "Build the module first: ./build.ps1 -Task Build ($script:manifest is missing)." }

    $script:emulator = Start-EmulatorProcess -ConfigPath (Join-Path $PSScriptRoot 'emulator.pester.json')
    $script:baseUri = $script:emulator.BaseUri
    $script:echo = '11111111-1111-1111-1111-111111111111'
    $script:slow = '44444444-4444-4444-4444-444444444444'
    # No NEN_* variable reaches the scripts unless a test gives it.
    $script:noEnvironment = @{ NEN_BASE_URL = $null; NEN_API_KEY = $null; NEN_SIGNING_KEY = $null; NEN_WEBHOOK_SECRET = $null }

    <#
    .SYNOPSIS
        Runs <Body> in a fresh pwsh (-NonInteractive -File) after importing the module and giving it the emulator's
        URL and the Pester key pair as $baseUri, $apiKey (SecureString) and $signingKey; returns the run, with
        Text: everything it printed, without escape codes.
    #>
    function Invoke-UserScript {
        param([string] $Name, [string] $Body, [hashtable] $Environment = $script:noEnvironment)
        $file = Join-Path $TestDrive "$Name.ps1"
        Set-Content -LiteralPath $file -Value @"
`$ErrorActionPreference = 'Continue'
`$PSStyle.OutputRendering = 'PlainText'
Import-Module '$script:manifest' -ErrorAction Stop
`$baseUri = '$script:baseUri'
`$apiKey = ConvertTo-SecureString 'pester-api-key' -AsPlainText -Force
`$signingKey = ConvertTo-SecureString 'pester-signing-key' -AsPlainText -Force
Set-Location -LiteralPath '$TestDrive'
$Body
"@
        $run = Invoke-FreshPwsh -File $file -WorkingDirectory $TestDrive -Environment $Environment
        $run | Add-Member -NotePropertyName Text -NotePropertyValue (Remove-Ansi "$($run.Output)$($run.Errors)") -PassThru
    }

    <# The data lines of a table printed by Format-Table (after the header's dashes). #>
    function Get-TableRow([string] $Text, [string] $Marker) {
        $lines = @($Text -split "`r?`n" | Where-Object { $_.Trim() })
        $start = [array]::IndexOf($lines, $Marker)
        $end = $start + 1
        while ($end -lt $lines.Count -and $lines[$end] -notlike '===*') { $end++ }
        # Header and dashes first, then the rows.
        $lines[($start + 3)..($end - 1)]
    }
}

AfterAll {
    Stop-EmulatorProcess $script:emulator
}

Describe 'Get-NenRunResult output made for files and people' {
    It 'exports to a CSV of at most 12 readable columns, MessageId, RowKey and the path among them' {
        $run = Invoke-UserScript csv @'
Connect-NenService -BaseUri $baseUri -ApiKey $apiKey -SigningKey $signingKey
'JobId,NAME', 'INV-1,Ada', 'INV-2,Grace' | ConvertFrom-Csv |
    Start-NenRun -WorkflowId 11111111-1111-1111-1111-111111111111 -KeyProperty JobId -ExcludeProperty JobId -NoProgress |
    Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 60 -NoProgress |
    Get-NenRunResult -Destination ./results -Expand -NoProgress |
    Export-Csv ./files.csv -NoTypeInformation
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Errors | Should -BeNullOrEmpty
        $header = (Get-Content -LiteralPath (Join-Path $TestDrive 'files.csv') -TotalCount 1) -split ',' -replace '"'
        $header.Count | Should -BeLessOrEqual 12 -Because "the columns are: $($header -join ', ')"
        $header | Should -Contain 'MessageId'
        $header | Should -Contain 'RowKey'
        $header | Should -Contain 'FullName' -Because 'the path is FullName, as on FileInfo (a Path property would bind to -Path, which takes wildcards)'
        $rows = Import-Csv -LiteralPath (Join-Path $TestDrive 'files.csv')
        $rows.RowKey | Sort-Object -Unique | Should -Be @('INV-1', 'INV-2')
        $rows.FullName | Should -Exist
        ($rows | Where-Object Expanded -EQ 'True') | Should -Not -BeNullOrEmpty
        Get-Content -LiteralPath (Join-Path $TestDrive 'files.csv') -Raw | Should -Not -Match 'VersionInfo|FileSystem::'
    }

    It 'pipes to Get-Item, Copy-Item and Remove-Item by property name, never taking a name as a wildcard' {
        $run = Invoke-UserScript provider @'
$files = [pscustomobject]@{ NAME = 'Ada' } |
    Start-NenRun -BaseUri $baseUri -ApiKey $apiKey -WorkflowId 11111111-1111-1111-1111-111111111111 -NoProgress |
    Wait-NenRun -BaseUri $baseUri -ApiKey $apiKey -PollIntervalSec 0.2 -TimeoutSec 60 -NoProgress |
    Get-NenRunResult -BaseUri $baseUri -ApiKey $apiKey -Destination './out[1]' -NoProgress
# A folder with [1] in its name: -Path would read it as a wildcard, which matches no such folder.
$null = New-Item -ItemType Directory -Path ./archive
$report = $files | Where-Object Name -EQ 'report.txt'
'item: ' + ($report | Get-Item).GetType().Name
$report | Copy-Item -Destination ./archive
'copied: ' + (Test-Path -LiteralPath ./archive/report.txt)
$report | Remove-Item
'removed: ' + (-not (Test-Path -LiteralPath $report.FullName))
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Errors | Should -BeNullOrEmpty
        $run.Output | Should -Match 'item: FileInfo'
        $run.Output | Should -Match 'copied: True'
        $run.Output | Should -Match 'removed: True'
    }
}

Describe 'Default tables at 80 columns' {
    BeforeAll {
        $script:tables = Invoke-UserScript tables @'
Connect-NenService -BaseUri $baseUri -ApiKey $apiKey -SigningKey $signingKey
$rows = 'JobId,NAME', 'INV-2024-0001,Ada', 'INV-2024-0002,Grace', 'INV-2024-0003,FAIL' | ConvertFrom-Csv
$journal = Join-Path $PWD 'views.jsonl'
$runs = $rows | Start-NenRun -WorkflowId 11111111-1111-1111-1111-111111111111 -KeyProperty JobId -ExcludeProperty JobId -JournalPath $journal -NoProgress
$again = $rows | Start-NenRun -WorkflowId 11111111-1111-1111-1111-111111111111 -KeyProperty JobId -ExcludeProperty JobId -JournalPath $journal -NoProgress
$slow = 'JobId,NAME', 'INV-2024-0009,Slow' | ConvertFrom-Csv |
    Start-NenRun -WorkflowId 44444444-4444-4444-4444-444444444444 -KeyProperty JobId -ExcludeProperty JobId -NoProgress
$statuses = $runs | Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 60 -NoProgress
$files = $statuses | Get-NenRunResult -Destination ./tables -Expand -NoProgress -ErrorAction SilentlyContinue
'=== Run'
@($runs) + @($again) | Sort-Object RowKey, Status | Format-Table | Out-String -Width 80
'=== RunStatus'
@($statuses) + @($slow | Get-NenRun -NoProgress) | Sort-Object RowKey | Format-Table | Out-String -Width 80
'=== ResultFile'
$files | Format-Table | Out-String -Width 80
'=== end'
'@
        $script:tables.ExitCode | Should -Be 0 -Because $script:tables.Text
        Write-Host ($script:tables.Output -split "`r?`n" | Where-Object { $_.Trim() } | ForEach-Object { "    $_" } | Out-String)
    }

    It 'fits every line into 80 columns' {
        $script:tables.Output -split "`r?`n" | Where-Object Length -GT 80 | Should -BeNullOrEmpty
    }

    It 'shows NenAi.Run statuses in full with the row key' {
        $rows = Get-TableRow $script:tables.Output '=== Run'
        $rows | Should -HaveCount 6
        foreach ($key in 'INV-2024-0001', 'INV-2024-0002', 'INV-2024-0003') {
            $rows -match "^$key\s+Accepted\s+\d\d:\d\d:\d\d\s+[0-9a-f-]{36}$" | Should -HaveCount 1
            $rows -match "^$key\s+AlreadyAccepted\s+\d\d:\d\d:\d\d\s+[0-9a-f-]{36}$" | Should -HaveCount 1
        }
    }

    It 'shows NenAi.RunStatus statuses in full with the row key and the error' {
        $rows = Get-TableRow $script:tables.Output '=== RunStatus'
        $rows | Should -HaveCount 4
        $rows[0] | Should -Match '^INV-2024-0001\s+success\s+2 '
        $rows[1] | Should -Match '^INV-2024-0002\s+success\s+2 '
        $rows[2] | Should -Match '^INV-2024-0003\s+failed\s+0 The echo workflow'
        $rows[3] | Should -Match '^INV-2024-0009\s+(processing|queued)\s+0 '
    }

    It 'shows how each NenAi.ResultFile was saved, with the row key' {
        $rows = Get-TableRow $script:tables.Output '=== ResultFile'
        $rows | Should -Not -BeNullOrEmpty
        $rows | ForEach-Object { $_ | Should -MatchExactly '^INV-2024-000[12]\s+\d+ (Downloaded|Unpacked  ) ' }
        $rows -cmatch ' Downloaded report\.txt ' | Should -HaveCount 2
        $rows -cmatch ' Unpacked   result\.json ' | Should -HaveCount 2
    }
}

Describe 'One vocabulary: the same connection parameters for every networked cmdlet' {
    It 'splats one hashtable onto Start-NenRun, Wait-NenRun, Get-NenRun and Get-NenRunResult' {
        $run = Invoke-UserScript splat @'
$nen = @{ BaseUri = $baseUri; ApiKey = $apiKey; SigningKey = $signingKey; RequestTimeoutSec = 30; MaximumRetryCount = 2; NoProgress = $true }
$runs = [pscustomobject]@{ NAME = 'Ada' } | Start-NenRun @nen -WorkflowId 11111111-1111-1111-1111-111111111111
$now = $runs | Get-NenRun @nen
$files = $runs | Wait-NenRun @nen -PollIntervalSec 0.2 -TimeoutSec 60 | Get-NenRunResult @nen -Destination ./splat
"runs=$(@($runs).Count) now=$(@($now).Count) files=$(@($files).Count)"
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Errors | Should -BeNullOrEmpty
        $run.Output | Should -Match 'runs=1 now=1 files=2'
    }

    It 'still takes the old -TimeoutSec of Start-NenRun, with a deprecation warning' {
        $run = Invoke-UserScript deprecated @'
$null = [pscustomobject]@{ NAME = 'Ada' } | Start-NenRun -BaseUri $baseUri -ApiKey $apiKey -WorkflowId 11111111-1111-1111-1111-111111111111 -TimeoutSec 30 -NoProgress
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Text | Should -Match 'WARNING: Start-NenRun: -TimeoutSec is deprecated; use -RequestTimeoutSec'
    }
}

Describe 'Credentials once per session' {
    It 'runs a batch after Connect-NenService with no key parameters and no NEN_* variables, and forgets them at Disconnect-NenService' {
        $run = Invoke-UserScript session @'
function Get-Secret { param([string] $Name, [string] $Vault) if ($Name -eq 'NenSigning') { $signingKey } else { throw "no secret $Name" } }
Connect-NenService -BaseUri $baseUri -ApiKey $apiKey -SigningKeySecretName NenSigning
'connection:'
Get-NenConnection | Format-List | Out-String -Width 200
$files = 'NAME', 'Ada', 'Grace' | ConvertFrom-Csv |
    Start-NenRun -WorkflowId 11111111-1111-1111-1111-111111111111 -NoProgress |
    Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 60 -NoProgress |
    Get-NenRunResult -Destination ./session -NoProgress
"files=$(@($files).Count)"
Disconnect-NenService
try { [pscustomobject]@{ NAME = 'late' } | Start-NenRun -BaseUri $baseUri -WorkflowId 11111111-1111-1111-1111-111111111111 -NoProgress -ErrorAction Stop }
catch { 'after disconnect: ' + $_.FullyQualifiedErrorId }
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Output | Should -Match 'files=4'
        $run.Output | Should -Match 'after disconnect: NenMissingApiKey,NenAi.Commands.StartNenRunCommand'
        $run.Output | Should -Match 'ApiKeySource\s+: Session \(Connect-NenService -ApiKey\)'
        $run.Output | Should -Match "SigningKeySource\s+: Session \(Connect-NenService -SigningKeySecretName 'NenSigning'\)"
        $run.Output | Should -Match 'ApiKey\s+: \(set\)'
        $run.Text | Should -Not -Match 'pester-api-key|pester-signing-key' -Because 'no secret is ever shown'
    }

    It 'reads a secret by name and formats its tables in Constrained Language too' {
        $run = Invoke-UserScript clm @'
$ExecutionContext.SessionState.LanguageMode = 'ConstrainedLanguage'
function Get-Secret { param([string] $Name, [string] $Vault) $apiKey }
Connect-NenService -BaseUri $baseUri -ApiKeySecretName NenApiKey
'NAME', 'Ada' | ConvertFrom-Csv | Start-NenRun -WorkflowId 11111111-1111-1111-1111-111111111111 -NoProgress | Format-Table | Out-String -Width 80
"mode=$($ExecutionContext.SessionState.LanguageMode)"
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Errors | Should -BeNullOrEmpty
        $run.Output | Should -Match 'mode=ConstrainedLanguage'
        $run.Output | Should -Match '\s+Accepted\s+\d\d:\d\d:\d\d\s+[0-9a-f-]{36}'
    }
}

Describe 'Help and a base URL with a path' {
    It 'prints about_NenAi as plain text, as Get-Help shows the built-in topics' {
        $run = Invoke-UserScript about 'Get-Help about_NenAi'
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $lines = $run.Output -split "`r?`n"
        $lines[0..4] | Should -Be @('TOPIC', '    about_NenAi', '', 'SHORT DESCRIPTION', '    Drive the Nen workflow-automation API from PowerShell.')
        $lines | Should -Contain 'LONG DESCRIPTION'
        $lines | Should -Contain 'SESSIONS'
        $lines | Where-Object { $_ -match '^#|`|\*\*' } | Should -BeNullOrEmpty
    }

    It 'says the base URL''s path is the likely cause of a 404, instead of a bare HTTP 404' {
        $run = Invoke-UserScript v1 @'
try { [pscustomobject]@{ NAME = 'Ada' } | Start-NenRun -BaseUri "$baseUri/v1" -ApiKey $apiKey -WorkflowId 11111111-1111-1111-1111-111111111111 -NoProgress -ErrorAction Stop }
catch { $_.FullyQualifiedErrorId; $_.Exception.Message }
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Output | Should -Match 'NenEndpointNotFound,NenAi.Commands.StartNenRunCommand'
        $run.Output | Should -Match "The likely cause is the path '/v1' of the base URL"
        $run.Output | Should -Match ([regex]::Escape("the usual base URL is $($script:baseUri.TrimEnd('/'))"))
    }
}

Describe 'Row-level messages name their row, and a script acts on a summary' {
    BeforeAll {
        # 500 rows; rows 37, 250 and 499 have a COUNT that is not a number.
        $script:csv = Join-Path $TestDrive 'five-hundred.csv'
        $lines = @('JobId,NAME,COUNT') + (1..500 | ForEach-Object { "J$(1000 + $_),row $_,$(if ($_ -in 37, 250, 499) { 'many' } else { $_ })" })
        Set-Content -LiteralPath $script:csv -Value $lines
    }

    It 'writes 3 errors for 3 bad rows of 500, each naming its JobId (or its row number without -KeyProperty)' {
        $run = Invoke-UserScript -Name 'named-rows' -Body @"
`$PSDefaultParameterValues['Start-NenRun:BaseUri'] = `$baseUri
`$PSDefaultParameterValues['Start-NenRun:ApiKey'] = `$apiKey
Import-Csv '$script:csv' | Start-NenRun -WorkflowId $script:echo -KeyProperty JobId -ExcludeProperty JobId -ThrottleLimit 16 -ErrorVariable keyed -ErrorAction SilentlyContinue | Out-Null
Import-Csv '$script:csv' | Start-NenRun -WorkflowId $script:echo -ExcludeProperty JobId -ThrottleLimit 16 -ErrorVariable numbered -ErrorAction SilentlyContinue | Out-Null
'KEYED: ' + ((`$keyed | ForEach-Object { `$_.Exception.Message.Split(':')[0] } | Sort-Object) -join '|')
'NUMBERED: ' + ((`$numbered | ForEach-Object { `$_.Exception.Message.Split(':')[0] } | Sort-Object) -join '|')
"@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Text | Should -Match 'KEYED: Row 250 \(JobId J1250\)\|Row 37 \(JobId J1037\)\|Row 499 \(JobId J1499\)'
        $run.Text | Should -Match 'NUMBERED: Row 250\|Row 37\|Row 499'
    }

    It 'names the row in what -WhatIf prints' {
        $run = Invoke-UserScript -Name 'whatif' -Body "Import-Csv '$script:csv' | Select-Object -First 2 | Start-NenRun -WorkflowId $script:echo -KeyProperty JobId -ExcludeProperty JobId -WhatIf"
        $run.Text | Should -Match 'What if: .*row 1 \(JobId J1001\)'
        $run.Text | Should -Match 'What if: .*row 2 \(JobId J1002\)'
    }

    It 'sets -SummaryVariable and writes its line to the Information stream, so a script exits with what happened' {
        $run = Invoke-UserScript -Name 'summary' -Body @"
Import-Csv '$script:csv' | Select-Object -First 40 |
    Start-NenRun -BaseUri `$baseUri -ApiKey `$apiKey -WorkflowId $script:echo -ExcludeProperty JobId -SummaryVariable started -ErrorAction SilentlyContinue -InformationAction Continue |
    Out-Null
'HASPROBLEMS: ' + `$started.HasProblems + ' ACCEPTED: ' + `$started.Outcomes.Accepted + ' FAILED: ' + `$started.Outcomes.Failed
exit [int]`$started.HasProblems
"@
        $run.ExitCode | Should -Be 1 -Because $run.Text
        $run.Text | Should -Match 'HASPROBLEMS: True ACCEPTED: 39 FAILED: 1'
        $run.Text | Should -Match 'Start-NenRun: 40 rows, 39 accepted, .*1 failed.*errors: NenInvalidWorkflowParams 1'
    }
}

Describe 'Rows you can recognise: one RowKey in every output and export' {
    It 'gives each row of the headline pipeline, without -KeyProperty, the same non-empty RowKey in Start-NenRun, Wait-NenRun and Get-NenRunResult output and their CSV exports' {
        $run = Invoke-UserScript rowkeys @'
Connect-NenService -BaseUri $baseUri -ApiKey $apiKey -SigningKey $signingKey
'JobId,NAME', '2001,Ada', '2002,Grace', '2003,Alan' | ConvertFrom-Csv |
    Start-NenRun -WorkflowId 11111111-1111-1111-1111-111111111111 -ExcludeProperty JobId -NoProgress | Tee-Object -Variable runs |
    Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 60 -NoProgress | Tee-Object -Variable statuses |
    Get-NenRunResult -Destination ./rowkeys -NoProgress | Tee-Object -Variable files |
    Export-Csv ./rowkeys-files.csv -NoTypeInformation
$runs | Export-Csv ./rowkeys-runs.csv -NoTypeInformation
$statuses | Export-Csv ./rowkeys-statuses.csv -NoTypeInformation
'=== tables'
$runs | Format-Table | Out-String -Width 80
$statuses | Format-Table | Out-String -Width 80
$files | Format-Table | Out-String -Width 80
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Errors | Should -BeNullOrEmpty
        $runs = Import-Csv -LiteralPath (Join-Path $TestDrive 'rowkeys-runs.csv')
        $statuses = Import-Csv -LiteralPath (Join-Path $TestDrive 'rowkeys-statuses.csv')
        $files = Import-Csv -LiteralPath (Join-Path $TestDrive 'rowkeys-files.csv')
        @($runs).Count | Should -Be 3
        ($runs.RowKey | Sort-Object) | Should -Be @('row 1', 'row 2', 'row 3')
        foreach ($r in $runs) {
            ($statuses | Where-Object MessageId -EQ $r.MessageId).RowKey | Should -Be $r.RowKey
            $mine = @($files | Where-Object MessageId -EQ $r.MessageId)
            $mine.Count | Should -BeGreaterThan 0
            $mine.RowKey | Sort-Object -Unique | Should -Be $r.RowKey
        }
        foreach ($table in 'row 1', 'row 2', 'row 3') {
            @($run.Output -split "`r?`n" | Where-Object { $_ -like "$table *" }).Count | Should -BeGreaterOrEqual 3 -Because "every table shows '$table': $($run.Output)"
        }
    }

    It 'writes the -KeyProperty value as the RowKey, the same in Start-NenRun''s export as in Wait-NenRun''s and Get-NenRunResult''s' {
        $run = Invoke-UserScript keyed-rowkeys @'
Connect-NenService -BaseUri $baseUri -ApiKey $apiKey
'JobId,NAME', '2001,Ada' | ConvertFrom-Csv |
    Start-NenRun -WorkflowId 11111111-1111-1111-1111-111111111111 -KeyProperty JobId -ExcludeProperty JobId -JournalPath ./keyed.jsonl -NoProgress | Tee-Object -Variable runs |
    Wait-NenRun -PollIntervalSec 0.2 -TimeoutSec 60 -NoProgress | Tee-Object -Variable statuses |
    Get-NenRunResult -Destination ./keyed -NoProgress | Tee-Object -Variable files | Out-Null
$listed = Get-NenRun -JournalPath ./keyed.jsonl
'KEYS: ' + (@($runs.RowKey) + @($statuses.RowKey) + @($files.RowKey | Sort-Object -Unique) + @($listed.RowKey) -join '|')
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Output | Should -Match 'KEYS: 2001\|2001\|2001\|2001\s*$'
    }
}

Describe 'See what would be sent' {
    It '-WhatIf names the parameters of each row; -WhatIf -Verbose shows the JSON body with secure values masked' {
        $run = Invoke-UserScript preview @'
$password = ConvertTo-SecureString 'canary-secure-value-7d1' -AsPlainText -Force
'JobId,CUSTOMER_NAME,AMOUNT', '2001,Ada Lovelace,12.5', '2002,Grace Hopper,7' | ConvertFrom-Csv |
    Start-NenRun -WorkflowId 11111111-1111-1111-1111-111111111111 -KeyProperty JobId -ExcludeProperty JobId -SecureParameter @{ password = $password } -WhatIf -Verbose
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Text | Should -Match 'What if: .*with 2 parameter\(s\) \(CUSTOMER_NAME, AMOUNT\) and 1 secure parameter\(s\) \(password\), row 1 \(JobId 2001\)'
        $run.Text | Should -Match 'What if: .*\(CUSTOMER_NAME, AMOUNT\).*row 2 \(JobId 2002\)'
        $run.Text | Should -Match ([regex]::Escape('VERBOSE: Row 1 (JobId 2001) would send POST /runs: {"workflow_id":"11111111-1111-1111-1111-111111111111","workflow_params":{"CUSTOMER_NAME":"Ada Lovelace","AMOUNT":"12.5"},"secure_workflow_params":{"password":"***"}}'))
        $run.Text | Should -Not -Match 'canary-secure-value'
    }
}

Describe 'Connections you can rotate, each in its own session' {
    It 'Connect-NenService -ApiKey alone keeps the base URL and signing key of the session' {
        $run = Invoke-UserScript rotate @'
$old = ConvertTo-SecureString 'the-revoked-key' -AsPlainText -Force
Connect-NenService -BaseUri $baseUri -ApiKey $old -SigningKey $signingKey
Connect-NenService -ApiKey $apiKey
Get-NenConnection | Format-List BaseUri, BaseUriSource, ApiKeySource, SigningKeySource | Out-String -Width 200
# Signed with the kept signing key, sent to the kept base URL with the new key: the secure workflow accepts only that.
$secret = ConvertTo-SecureString 'correct horse battery' -AsPlainText -Force
[pscustomobject]@{ USER = 'jane' } | Start-NenRun -WorkflowId 22222222-2222-2222-2222-222222222222 -SecureParameter @{ password = $secret } -NoProgress | ForEach-Object { 'STARTED ' + $_.Status }
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Errors | Should -BeNullOrEmpty
        $run.Output | Should -Match ("BaseUri\s+: " + [regex]::Escape("$($script:baseUri.TrimEnd('/'))/"))
        $run.Output | Should -Match 'BaseUriSource\s+: Session \(Connect-NenService -BaseUri\)'
        $run.Output | Should -Match 'SigningKeySource\s+: Session \(Connect-NenService -SigningKey\)'
        $run.Output | Should -Match 'STARTED Accepted'
    }

    It 'three ForEach-Object -Parallel -ThrottleLimit 1 iterations: the first connects, the others see no connection' {
        $run = Invoke-UserScript parallel @"
1..3 | ForEach-Object -ThrottleLimit 1 -Parallel {
    Import-Module '$script:manifest'
    if (`$_ -eq 1) { Connect-NenService -BaseUri `$using:baseUri -ApiKey `$using:apiKey }
    `$c = Get-NenConnection
    'ITERATION {0} runspace {1}: {2} / {3}' -f `$_, [runspace]::DefaultRunspace.Id, `$c.ApiKeySource, `$c.BaseUriSource
    if (`$_ -gt 1) {
        try { [pscustomobject]@{ NAME = 'x' } | Start-NenRun -BaseUri `$using:baseUri -WorkflowId 11111111-1111-1111-1111-111111111111 -NoProgress -ErrorAction Stop | Out-Null; 'SENT' }
        catch { 'REFUSED ' + `$_.FullyQualifiedErrorId }
    }
}
"@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $lines = @($run.Output -split "`r?`n" | Where-Object { $_ -like 'ITERATION *' })
        $lines | Should -HaveCount 3
        @($lines | ForEach-Object { ($_ -split ' ')[3] } | Sort-Object -Unique) | Should -HaveCount 1 -Because 'one pooled runspace served all three'
        $lines[0] | Should -Match ': Session \(Connect-NenService -ApiKey\) / Session \(Connect-NenService -BaseUri\)$'
        $lines[1] | Should -Match ': Not set / Default$'
        $lines[2] | Should -Match ': Not set / Default$'
        @($run.Output -split "`r?`n" | Where-Object { $_ -eq 'REFUSED NenMissingApiKey,NenAi.Commands.StartNenRunCommand' }) | Should -HaveCount 2
        $run.Output | Should -Not -Match '^SENT'
    }
}
