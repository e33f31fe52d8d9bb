-- Seed 000 ("Database Schema Design"), config hub: the SQL exactly as the seed gives it.

CREATE TABLE runtime_configs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    config_key VARCHAR(255) UNIQUE NOT NULL,
    config_value TEXT,
    config_type VARCHAR(50) DEFAULT 'STRING',
    scope VARCHAR(50) NOT NULL, -- GLOBAL, TENANT, USER
    tenant_id UUID,
    user_id UUID,
    category VARCHAR(100),
    description TEXT,
    is_encrypted BOOLEAN DEFAULT FALSE,
    validation_rules JSONB,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_configs_key ON runtime_configs(config_key);
CREATE INDEX idx_configs_scope ON runtime_configs(scope);
CREATE INDEX idx_configs_tenant_id ON runtime_configs(tenant_id);
CREATE INDEX idx_configs_category ON runtime_configs(category);

CREATE TABLE environment_configs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    environment VARCHAR(50) NOT NULL,
    config_key VARCHAR(255) NOT NULL,
    config_value TEXT,
    config_type VARCHAR(50) DEFAULT 'STRING',
    description TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(environment, config_key)
);

CREATE INDEX idx_env_configs_environment ON environment_configs(environment);
CREATE INDEX idx_env_configs_key ON environment_configs(config_key);
