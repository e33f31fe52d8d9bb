-- Seed 000 ("Database Schema Design"), app hub: the SQL exactly as the seed gives it.

CREATE TABLE app_registry (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(255) NOT NULL,
    description TEXT,
    category VARCHAR(100),
    app_type VARCHAR(50) DEFAULT 'INTEGRATION',
    status VARCHAR(50) DEFAULT 'ACTIVE',
    version VARCHAR(50),
    developer VARCHAR(255),
    icon_url TEXT,
    screenshots JSONB,
    features JSONB,
    requirements JSONB,
    pricing JSONB,
    configuration_schema JSONB,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_app_registry_category ON app_registry(category);
CREATE INDEX idx_app_registry_status ON app_registry(status);
CREATE INDEX idx_app_registry_type ON app_registry(app_type);

CREATE TABLE app_subscriptions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id UUID NOT NULL REFERENCES app_registry(id),
    tenant_id UUID NOT NULL,
    status VARCHAR(50) DEFAULT 'ACTIVE',
    plan VARCHAR(50),
    configuration JSONB,
    usage_stats JSONB,
    billing_info JSONB,
    subscribed_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(app_id, tenant_id)
);

CREATE INDEX idx_subscriptions_app_id ON app_subscriptions(app_id);
CREATE INDEX idx_subscriptions_tenant_id ON app_subscriptions(tenant_id);
CREATE INDEX idx_subscriptions_status ON app_subscriptions(status);

CREATE TABLE app_guards (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id UUID NOT NULL REFERENCES app_registry(id),
    tenant_id UUID NOT NULL,
    guard_type VARCHAR(50) NOT NULL,
    status VARCHAR(50) DEFAULT 'ACTIVE',
    rules JSONB,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_guards_app_id ON app_guards(app_id);
CREATE INDEX idx_guards_tenant_id ON app_guards(tenant_id);
CREATE INDEX idx_guards_type ON app_guards(guard_type);
