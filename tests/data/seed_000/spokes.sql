-- Seed 000 ("Database Schema Design"), spokes hub: the SQL exactly as the seed gives it.

CREATE TABLE facebook_connections (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL,
    page_id VARCHAR(100) NOT NULL,
    page_name VARCHAR(255),
    page_access_token TEXT,
    webhook_secret TEXT,
    connection_status VARCHAR(50) DEFAULT 'ACTIVE',
    metadata JSONB,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_fb_connections_tenant_id ON facebook_connections(tenant_id);
CREATE INDEX idx_fb_connections_page_id ON facebook_connections(page_id);
CREATE INDEX idx_fb_connections_status ON facebook_connections(connection_status);

CREATE TABLE facebook_users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    facebook_user_id VARCHAR(100) UNIQUE NOT NULL,
    user_id UUID,
    tenant_id UUID,
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    profile_pic_url TEXT,
    locale VARCHAR(10),
    timezone INTEGER,
    last_interaction_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_fb_users_facebook_id ON facebook_users(facebook_user_id);
CREATE INDEX idx_fb_users_user_id ON facebook_users(user_id);
CREATE INDEX idx_fb_users_tenant_id ON facebook_users(tenant_id);

CREATE TABLE botpress_user_mappings (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL,
    platform_user_id VARCHAR(255) NOT NULL,
    platform_type VARCHAR(50) NOT NULL,
    botpress_user_id VARCHAR(255) NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(tenant_id, platform_user_id, platform_type)
);

CREATE INDEX idx_bp_mappings_tenant_id ON botpress_user_mappings(tenant_id);
CREATE INDEX idx_bp_mappings_platform_user_id ON botpress_user_mappings(platform_user_id);
CREATE INDEX idx_bp_mappings_botpress_user_id ON botpress_user_mappings(botpress_user_id);
